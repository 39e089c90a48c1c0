/**
 * Big dumps: with 2,000+ TCP sockets in a private namespace, the table and NDJSON
 * stream (rows reach standard output while the dump is still running), and a reader
 * that goes away (`sockdiag ... | head -1`) ends the command quietly with status 0.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TCPDIAG_GETSOCK } from '../../generated/inet_diag.js';
import { SockDiagMsgType } from '../../generated/sock_diag.js';
import { run } from '../../cli/main.js';
import { Output } from '../../cli/output.js';
import { SockDiag } from '../../query/session.js';
import type { InetQuery, InetSocket } from '../../query/types.js';
import { BIN, openNamespace, type Namespace } from '../helpers/cli-netns.js';

const CONNECTIONS = 1200; // 2,400 sockets, and the listener

let ns: Namespace;
beforeAll(async () => {
  ns = await openNamespace({ many: CONNECTIONS });
});
afterAll(async () => {
  await ns?.close();
});

describe('a closed pipe', () => {
  /** `set -o pipefail; sockdiag ARGS | head -1`: the pipeline's status is sockdiag's unless that is 0. */
  function headOne(args: string): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync('bash', ['-c', `set -o pipefail; ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} -N ${ns.name} ${args} | head -1`], { encoding: 'utf8', timeout: 30_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  // `-a` as the issue has it (every default table), then explicit tables with every output form.
  const CASES = ['-a', '-ta', '-tai', '-ta --ndjson', '-ta --json'];

  it.each(CASES)('sockdiag %s | head -1: exit status 0, one line, nothing on stderr', (args) => {
    const r = headOne(args);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n')).toHaveLength(2);
  });

  it.each(CASES)('sockdiag %s prints more than a pipe and head -1 take, so it did write into a closed pipe', (args) => {
    const r = spawnSync(process.execPath, [BIN, '-N', ns.name, ...args.split(' ')], { maxBuffer: 64 * 1024 * 1024 });
    expect(r.status).toBe(0);
    // A pipe holds 64 KiB; head reads at most that much more before it exits.
    expect(r.stdout.length).toBeGreaterThan(2 * 65536);
  });
});

describe('streaming', () => {
  /** Records, for each write and flush to standard output, how many sockets the dump had yielded by then. */
  class Recorder extends Output {
    events: { kind: 'write' | 'bytes' | 'flush'; yielded: number; text?: string }[] = [];
    constructor(
      fd: number,
      private readonly yielded: () => number,
    ) {
      super(fd);
    }
    override write(text: string): void {
      this.events.push({ kind: 'write', yielded: this.yielded(), text });
      super.write(text);
    }
    override writeBytes(bytes: Uint8Array): void {
      this.events.push({ kind: 'bytes', yielded: this.yielded(), text: Buffer.from(bytes).toString('utf8') });
      super.writeBytes(bytes);
    }
    override flush(): void {
      this.events.push({ kind: 'flush', yielded: this.yielded() });
      super.flush();
    }
  }

  async function record(args: string[]) {
    let yielded = 0;
    const inet = SockDiag.prototype.inet;
    const spy = vi.spyOn(SockDiag.prototype, 'inet').mockImplementation(function* (this: SockDiag, q?: InetQuery) {
      const replies = inet.call(this, q);
      let r = replies.next();
      for (; !r.done; r = replies.next()) {
        yielded++;
        yield r.value as InetSocket;
      }
      return r.value;
    });
    const devNull = openSync('/dev/null', 'w');
    const out = new Recorder(devNull, () => yielded);
    const errors: string[] = [];
    try {
      const status = await run(['-N', ns.name, ...args], out, (line) => {
        errors.push(line);
        return true;
      });
      return { status, errors, events: out.events, total: yielded };
    } finally {
      spy.mockRestore();
      closeSync(devNull);
    }
  }

  it('the text table reaches standard output while the dump is running (after its sizing rows)', async () => {
    const { status, errors, events, total } = await record(['-ta']);
    expect(errors).toEqual([]);
    expect(status).toBe(0);
    expect(total).toBeGreaterThanOrEqual(2 * CONNECTIONS);
    const firstRow = events.find((e) => e.kind === 'write');
    const firstFlush = events.find((e) => e.kind === 'flush');
    // The header and the first rows wait for the sizing rows (512), not for the whole dump.
    expect(firstRow!.yielded).toBeLessThanOrEqual(512);
    expect(firstRow!.text).toMatch(/^State\s+Recv-Q/);
    // And bytes leave the process before the dump ends.
    expect(firstFlush!.yielded).toBeLessThan(total);
  });

  it('--ndjson hands each socket to standard output in chunks while the dump runs, one line each', async () => {
    const { status, events, total } = await record(['-ta', '--ndjson']);
    expect(status).toBe(0);
    const chunks = events.filter((e) => e.kind === 'bytes');
    // Whole lines in every chunk, every socket once, in order of arrival.
    const lines = chunks.flatMap((c) => {
      expect(c.text!.endsWith('\n')).toBe(true);
      return c.text!.slice(0, -1).split('\n');
    });
    expect(lines).toHaveLength(total);
    for (const l of lines) expect(JSON.parse(l)).toHaveProperty('netid', 'tcp');
    // The first chunk leaves before the dump ends; a chunk is about 64 KiB, not the whole dump.
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks[0]!.yielded).toBeLessThan(total);
    for (const c of chunks) expect(c.text!.length).toBeLessThan(64 * 1024 + 8192);
  });
});

describe('requests', () => {
  const strace = spawnSync('strace', ['-V']).status === 0;
  /** The nlmsg_type of every request the command sends, as strace decodes them. */
  const requestTypes = (args: string[]) => {
    const r = spawnSync('strace', ['-f', '-qq', '-e', 'trace=sendto', '-e', 'abbrev=none', process.execPath, BIN, '-N', ns.name, ...args], { encoding: 'utf8', timeout: 30_000, maxBuffer: 64 << 20 });
    return [...r.stderr.matchAll(/nlmsg_type=(0x[0-9a-f]+|\d+)/g)].map((m) => Number(m[1]));
  };

  it.skipIf(!strace)(`TCP of both families is one request, answered in one walk of the kernel's tables (ss makes two)${strace ? '' : ' (skipped: needs strace)'}`, () => {
    expect(requestTypes(['-tan'])).toEqual([TCPDIAG_GETSOCK]);
    expect(requestTypes(['-tan', '-4'])).toEqual([SockDiagMsgType['diag-by-family']]);
    expect(requestTypes(['-uan'])).toEqual([SockDiagMsgType['diag-by-family'], SockDiagMsgType['diag-by-family']]);
  });
});

describe('events', () => {
  it('-E --ndjson prints each destroyed socket as the kernel reports it, not at exit', async () => {
    const child = spawn(process.execPath, [BIN, '-N', ns.name, '-E', '-t', '--ndjson'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // One connection, opened and closed once -E listens: its few events (a few KiB, far
    // less than an output chunk) must come out by themselves, within seconds.
    await new Promise((r) => setTimeout(r, 1500));
    spawnSync('ip', ['netns', 'exec', ns.name, 'python3', '-c', 'import socket; l=socket.create_server(("127.0.0.1", 0)); c=socket.create_connection(l.getsockname()); s,_=l.accept(); c.close(); s.close(); l.close()']);
    const until = performance.now() + 5_000;
    while (performance.now() < until && !stdout.includes('\n')) await new Promise((r) => setTimeout(r, 100));
    const seen = stdout;
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    const code = await exited;
    clearTimeout(timer);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const first = JSON.parse(seen.split('\n')[0]!) as { netid: string; src: string };
    expect(first).toMatchObject({ netid: 'tcp', src: '127.0.0.1' });
  }, 30_000);

  it('-E with standard output on a full device: one line on stderr, exit 1, once an event is to be written', async () => {
    const full = openSync('/dev/full', 'w');
    const child = spawn(process.execPath, [BIN, '-N', ns.name, '-E', '-t'], { stdio: ['ignore', full, 'pipe'] });
    closeSync(full);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise((r) => setTimeout(r, 1500));
    spawnSync('ip', ['netns', 'exec', ns.name, 'python3', '-c', 'import socket; l=socket.create_server(("127.0.0.1", 0)); c=socket.create_connection(l.getsockname()); s,_=l.accept(); c.close(); s.close(); l.close()']);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const code = await exited;
    clearTimeout(timer);
    expect([stderr, code]).toEqual(['sockdiag: cannot write to standard output: ENOSPC (no space left on device)\n', 1]);
  }, 30_000);
});

describe('standard output on a full device (/dev/full): one line on stderr, exit 1, no stack trace', () => {
  const toFull = (args: string[]) => {
    const full = openSync('/dev/full', 'w');
    try {
      return spawnSync(process.execPath, [BIN, ...args], { stdio: ['ignore', full, 'pipe'], encoding: 'utf8', timeout: 30_000 });
    } finally {
      closeSync(full);
    }
  };
  for (const args of [['-N', 'NS', '-tan'], ['-N', 'NS', '-tan', '--json'], ['--help']]) {
    it(args.join(' '), () => {
      const r = toFull(args.map((a) => (a === 'NS' ? ns.name : a)));
      expect([r.stderr, r.status]).toEqual(['sockdiag: cannot write to standard output: ENOSPC (no space left on device)\n', 1]);
    });
  }
});
