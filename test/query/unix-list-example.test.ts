/**
 * examples/unix-list.ts against the C example program of sock_diag(7): the program is
 * taken from the man page at run time (the installed one, or the copy in
 * /work/shared/seed), compiled with gcc, and run in a namespace with a few UNIX
 * sockets; the example must print the same lines.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasCommand, Holder, kernelTestsSkipReason, Netns, REPO, sockDiagManPage, type HeldSocket } from '../helpers/netns.js';

const manPage = sockDiagManPage();
const skipReason =
  kernelTestsSkipReason() ??
  (manPage === undefined
    ? process.env.SOCKDIAG_SOCK_DIAG_7
      ? `no man page at SOCKDIAG_SOCK_DIAG_7=${process.env.SOCKDIAG_SOCK_DIAG_7}`
      : 'no sock_diag(7) man page (neither /usr/share/man/man7/sock_diag.7.gz nor /work/shared/seed/sock_diag.7)'
    : hasCommand('gcc')
      ? undefined
      : 'no gcc to compile the man page example');
if (skipReason) console.warn(`test/query/unix-list-example.test.ts skipped: ${skipReason}`);

/** roff's named characters that appear in man-pages code. */
const NAMED: Record<string, string> = { aq: "'", dq: '"', rs: '\\', ga: '`', ha: '^', ti: '~', lq: '"', rq: '"', oq: "'", cq: "'", mi: '-', hy: '-' };

/** One line of roff source as plain text: escapes converted, font changes dropped. */
function roffLine(line: string): string {
  return line.replace(/\\(\[([A-Za-z]+)\]|\(([A-Za-z]{2})|f(\[[A-Za-z]*\]|\([A-Za-z]{2}|[A-Za-z0-9])|.)/g, (all, _x, long?: string, short?: string, font?: string) => {
    if (font !== undefined) return '';
    const name = long ?? short;
    if (name !== undefined) {
      const ch = NAMED[name];
      if (ch === undefined) throw new Error(`unknown roff character ${all} in: ${line}`);
      return ch;
    }
    switch (all[1]) {
      case 'e':
      case '\\':
        return '\\';
      case '-':
        return '-';
      case '&':
      case '%':
      case ':':
        return '';
      case '~':
      case ' ':
        return ' ';
      case "'":
        return "'";
      case '.':
        return '.';
      default:
        throw new Error(`unknown roff escape ${all} in: ${line}`);
    }
  });
}

/** The C program of the EXAMPLES section: the `.EX`/`.EE` (or `.nf`/`.fi`) block that has main(). */
function exampleProgram(roff: string): string {
  const lines = roff.split('\n');
  const start = lines.findIndex((l) => /^\.SH\s+"?EXAMPLES?"?\s*$/.test(l));
  if (start === -1) throw new Error('no EXAMPLES section in the man page');
  const end = lines.findIndex((l, i) => i > start && l.startsWith('.SH'));
  const section = lines.slice(start + 1, end === -1 ? undefined : end);
  const blocks: string[][] = [];
  let block: string[] | undefined;
  for (const l of section) {
    if (/^\.(EX|nf)\b/.test(l)) block = [];
    else if (/^\.(EE|fi)\b/.test(l)) {
      if (block) blocks.push(block);
      block = undefined;
    } else if (block) {
      // A line starting with a dot is a request (.in, a .\" comment), not code.
      if (l.startsWith('.') || l.startsWith("'")) continue;
      block.push(roffLine(l));
    }
  }
  const program = blocks.map((b) => b.join('\n')).find((b) => /\bmain\s*\(/.test(b));
  if (program === undefined) throw new Error('no block with main() in the EXAMPLES section');
  return program + '\n';
}

/** Output lines as a sorted list. */
const lines = (text: string) => text.split('\n').filter((l) => l !== '').sort();

describe.skipIf(!!skipReason)(`examples/unix-list.ts against the C example of sock_diag(7)${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let ns: Netns;
  let holder: Holder;
  let work: string;
  let bundleDir: string;
  let program: string;
  let bundle: string;
  const s: Record<string, HeldSocket> = {};
  const tag = `sockdiag-q-ex-${process.pid}`;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'sockdiag-q-example-'));
    chmodSync(work, 0o755);
    // Compile the man page's program.
    const source = join(work, 'unix_list.c');
    writeFileSync(source, exampleProgram(manPage!));
    program = join(work, 'unix_list');
    execFileSync('gcc', ['-O0', '-w', '-o', program, source], { stdio: ['ignore', 'pipe', 'pipe'] });
    // Bundle the example into plain JavaScript, so that running it starts no helper
    // process (tsx starts esbuild, whose pipes would be UNIX sockets in the namespace).
    const esbuild = await import('esbuild');
    bundleDir = mkdtempSync(join(REPO, '.tmp-example-'));
    bundle = join(bundleDir, 'unix-list.mjs');
    esbuild.buildSync({
      entryPoints: [join(REPO, 'examples/unix-list.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      outfile: bundle,
      logLevel: 'silent',
    });

    ns = Netns.create('example');
    holder = await Holder.start(ns, 'python');
    const open = async (name: string, args: Record<string, unknown>) => (s[name] = await holder.request<HeldSocket>('socket', args));
    await open('named', { type: 'stream', bind: { path: join(work, 'listener.sock') }, listen: 4 });
    await open('client', { type: 'stream', connect: { path: join(work, 'listener.sock') } });
    s.accepted = await holder.request<HeldSocket>('accept', { sock: s.named!.sock });
    await open('abstract', { type: 'seqpacket', bind: { abstract: tag }, listen: 2 });
    await open('dgram', { type: 'dgram', bind: { path: join(work, 'dgram.sock') } });
    [s.a, s.b] = await holder.request<[HeldSocket, HeldSocket]>('pair', { type: 'stream' });
    await open('lone', { type: 'dgram' });
  });

  afterAll(async () => {
    await holder?.stop();
    ns?.delete();
    if (work) rmSync(work, { recursive: true, force: true });
    if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
  });

  it('extracts a C program from the man page without roff escapes', () => {
    const c = exampleProgram(manPage!);
    expect(c).toContain('#include <linux/unix_diag.h>');
    expect(c).toContain("path[path_len] = '\\0';");
    expect(c).toContain('diag->udiag_ino');
    expect(c).not.toMatch(/\\-|\\e|\\\[/);
  });

  it('the C program lists the namespace’s sockets', () => {
    const c = lines(ns.exec(program));
    const w = join(work, 'listener.sock');
    expect(c).toEqual(
      [
        `inode=${s.named!.inode}, name=${w}`,
        `inode=${s.client!.inode}, peer=${s.accepted!.inode}`,
        `inode=${s.accepted!.inode}, peer=${s.client!.inode}, name=${w}`,
        `inode=${s.abstract!.inode}, name=@${tag}`,
        `inode=${s.dgram!.inode}, name=${join(work, 'dgram.sock')}`,
        `inode=${s.a!.inode}, peer=${s.b!.inode}`,
        `inode=${s.b!.inode}, peer=${s.a!.inode}`,
        `inode=${s.lone!.inode}`,
      ].sort(),
    );
  });

  it('prints the same lines as the C program, run the same way inside the namespace', () => {
    const c = lines(ns.exec(program));
    const ours = lines(ns.exec(process.execPath, [bundle]));
    expect(ours).toEqual(c);
  });

  it('prints the same lines with --netns from outside the namespace', () => {
    const c = lines(ns.exec(program));
    const ours = lines(
      execFileSync(process.execPath, ['--import', 'tsx', join(REPO, 'examples/unix-list.ts'), '--netns', ns.name], {
        cwd: REPO,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    expect(ours).toEqual(c);
  });
});
