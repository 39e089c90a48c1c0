/**
 * Runs the system C compiler against a header tree: preprocesses the headers (to see
 * what they declare) and compiles and runs a program that prints the values, sizes,
 * offsets and bit-field positions the schema claims, one line per probe. A probe
 * the compiler rejects is dropped and reported with the compiler's message, so one
 * bad name never hides the rest.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CMember } from './cdecl.js';

/** Where the headers are: include directories searched in order (before the compiler's own). */
export interface HeaderTree {
  dirs: string[];
  /** The C compiler to run; default `gcc`. */
  cc?: string;
}

/** One question for the compiled program. */
export type Probe =
  | { kind: 'value'; expr: string }
  | { kind: 'size'; type: string }
  | { kind: 'member'; type: string; member: CMember };

/** A member's place, in bits from the start of the struct. */
export interface MemberLayout {
  bitStart: number;
  bitWidth: number;
  bitField: boolean;
  /** Element size in bytes of an array; storage unit size of a bit field. */
  unit?: number;
  /** Whether the (element) type is signed; undefined for struct members. */
  signed?: boolean;
}

/** The answer to a {@link Probe}. */
export type Answer =
  | { kind: 'value'; value: bigint }
  | { kind: 'size'; size: number }
  | { kind: 'member'; layout: MemberLayout }
  | { kind: 'error'; message: string };

const compilerArgs = (tree: HeaderTree) => [...tree.dirs.flatMap((d) => ['-I', d]), '-std=gnu11', '-fdiagnostics-plain-output'];

/** The source lines that include `headers`, each only if the tree has it, libc headers first. */
export function includeLines(headers: string[]): string[] {
  const sorted = [...new Set(headers)].sort((a, b) => Number(a.startsWith('linux/')) - Number(b.startsWith('linux/')) || a.localeCompare(b));
  return ['#define _GNU_SOURCE', ...sorted.map((h) => `#if __has_include(<${h}>)\n#include <${h}>\n#endif`)];
}

/** `gcc -E -dD` of a file that includes `headers`. */
export function preprocess(tree: HeaderTree, headers: string[]): string {
  const cc = tree.cc ?? 'gcc';
  const run = spawnSync(cc, [...compilerArgs(tree), '-E', '-dD', '-x', 'c', '-'], {
    input: includeLines(headers).join('\n') + '\n',
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  });
  if (run.error) throw new Error(`cannot run the C compiler '${cc}': ${run.error.message}`);
  if (run.status !== 0) throw new Error(`the C preprocessor failed on the headers:\n${run.stderr}`);
  return run.stdout;
}

const prelude = String.raw`#include <stdio.h>
#include <string.h>
#include <stddef.h>
static void value(int id, long long s, unsigned long long u, int neg) { if (neg) printf("%d v %lld\n", id, s); else printf("%d v %llu\n", id, u); }
#define V(id, e) value(id, (long long)(e), (unsigned long long)(e), (e) < 0)
static void bits(int id, const void *p, size_t n, size_t unit, int sign) {
  const unsigned char *b = p; long first = -1, count = 0;
  for (size_t i = 0; i < n * 8; i++) if (b[i / 8] >> (i % 8) & 1) { if (first < 0) first = (long)i; count++; }
  printf("%d b %ld %ld %zu %d\n", id, first, count, unit, sign);
}
int main(void) {`;

function probeLine(id: number, p: Probe): string {
  if (p.kind === 'value') return `V(${id}, (${p.expr}));`;
  if (p.kind === 'size') return `printf("%d s %zu\\n", ${id}, sizeof(${p.type}));`;
  const { type, member: m } = p;
  const el = `((${type} *)0)->${m.name}${'[0]'.repeat(m.dims)}`;
  if (m.bitField) return `{ ${type} s; memset(&s, 0, sizeof s); s.${m.name} = -1; bits(${id}, &s, sizeof s, sizeof(${m.type}), s.${m.name} < 0); }`;
  const size = m.flexible ? '0' : `sizeof(((${type} *)0)->${m.name})`;
  const unit = m.dims > 0 ? `sizeof(${el})` : '0';
  const sign = m.record ? '-1' : `((__typeof__(${el}))-1 < 0)`;
  return `printf("%d m %zu %zu %zu %d\\n", ${id}, offsetof(${type}, ${m.name}), (size_t)${size}, (size_t)${unit}, ${sign});`;
}

/**
 * Compiles and runs one program answering every probe, with `headers` included.
 * Probes the compiler rejects get an `error` answer; the rest are compiled again.
 */
export function runProbes(tree: HeaderTree, headers: string[], probes: Probe[]): Answer[] {
  const answers: Answer[] = probes.map(() => ({ kind: 'error', message: 'no answer' }));
  const live = new Set(probes.keys());
  const dir = mkdtempSync(join(tmpdir(), 'schema-diff-'));
  try {
    for (let attempt = 0; ; attempt++) {
      const head = [...includeLines(headers), prelude];
      const firstLine = head.join('\n').split('\n').length + 1;
      const ids = [...live];
      const source = [...head, ...ids.map((id) => probeLine(id, probes[id]!)), 'return 0; }', ''].join('\n');
      writeFileSync(join(dir, 'probe.c'), source);
      const cc = spawnSync(tree.cc ?? 'gcc', [...compilerArgs(tree), '-Werror=implicit-function-declaration', 'probe.c', '-o', 'probe'], { cwd: dir, encoding: 'utf8' });
      if (cc.error) throw new Error(`cannot run the C compiler '${tree.cc ?? 'gcc'}': ${cc.error.message}`);
      if (cc.status === 0) break;
      const failed = new Map<number, string>();
      let message = '';
      for (const line of cc.stderr.split('\n')) {
        const err = /\berror: (.*)$/.exec(line);
        if (err) message = err[1]!;
        const at = /^probe\.c:(\d+):/.exec(line);
        const id = at ? ids[Number(at[1]) - firstLine] : undefined;
        if (id !== undefined && message && !failed.has(id)) failed.set(id, message);
      }
      if (failed.size === 0 || attempt > 20) throw new Error(`the C compiler failed on the headers:\n${cc.stderr}`);
      for (const [id, msg] of failed) {
        answers[id] = { kind: 'error', message: msg };
        live.delete(id);
      }
    }
    const run = spawnSync(join(dir, 'probe'), { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (run.status !== 0) throw new Error(`the probe program failed: ${run.stderr || run.error?.message}`);
    for (const line of run.stdout.trim().split('\n')) {
      const [id, kind, ...f] = line.split(' ');
      const n = f.map(Number);
      answers[Number(id)] =
        kind === 'v'
          ? { kind: 'value', value: BigInt(f[0]!) }
          : kind === 's'
            ? { kind: 'size', size: n[0]! }
            : kind === 'b'
              ? { kind: 'member', layout: { bitStart: n[0]!, bitWidth: n[1]!, bitField: true, unit: n[2], signed: n[3] === 1 } }
              : { kind: 'member', layout: { bitStart: n[0]! * 8, bitWidth: n[1]! * 8, bitField: false, unit: n[2] || undefined, signed: n[3]! < 0 ? undefined : n[3] === 1 } };
    }
    return answers;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The kernel version of a header tree, from `linux/version.h` (or a kernel checkout's Makefile), as `[major, minor]`. */
export function headerVersion(tree: HeaderTree): [number, number] | undefined {
  for (const d of tree.dirs) {
    const h = join(d, 'linux/version.h');
    if (existsSync(h)) {
      const code = /#define\s+LINUX_VERSION_CODE\s+(\d+)/.exec(readFileSync(h, 'utf8'));
      if (code) return [Number(code[1]) >> 16, (Number(code[1]) >> 8) & 0xff];
    }
    const makefile = join(d, '../../Makefile');
    if (existsSync(makefile)) {
      const text = readFileSync(makefile, 'utf8');
      const v = /^VERSION = (\d+)$/m.exec(text);
      const p = /^PATCHLEVEL = (\d+)$/m.exec(text);
      if (v && p) return [Number(v[1]), Number(p[1])];
    }
  }
  return undefined;
}
