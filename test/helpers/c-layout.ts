/**
 * Checks struct layouts and bit fields against GCC: writes a C program that sets
 * fields of a struct, dumps its bytes and reads the fields back, compiles it with gcc
 * and parses what it prints.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IntType, Member, Schema, StructDef } from '../../generator/model.js';
import { intBytes, is64 } from './model-values.js';

/** Why C checks cannot run here, or undefined when gcc works. */
export const gccMissing: string | undefined = (() => {
  const r = spawnSync('gcc', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : `gcc not found on PATH (${r.error?.message ?? r.stderr?.trim() ?? 'no output'})`;
})();

/** Compiles and runs a C program; returns its standard output. Throws with gcc's messages on failure. */
export function runC(source: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sockdiag-c-'));
  try {
    writeFileSync(join(dir, 'main.c'), source);
    const cc = spawnSync('gcc', ['-std=gnu11', '-Wall', '-Werror', '-Wno-unused-variable', '-o', join(dir, 'main'), join(dir, 'main.c')], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`gcc failed:\n${cc.stderr}\n--- program ---\n${source}`);
    const run = spawnSync(join(dir, 'main'), { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`program failed: ${run.stderr}`);
    return run.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const cInt: Record<IntType, string> = { u8: '__u8', u16: '__u16', u32: '__u32', u64: '__u64', s8: '__s8', s16: '__s16', s32: '__s32', s64: '__s64' };

/** The C tag of a struct: `struct tcp_info` → `tcp_info`. */
export const cTag = (s: StructDef): string => s.cName.replace(/^struct\s+/, '');

/** A C declaration of a schema struct (and, first, of the structs it contains), for synthetic schemas. */
export function cDeclaration(schema: Schema, s: StructDef, done = new Set<string>()): string {
  if (done.has(s.name)) return '';
  done.add(s.name);
  let out = '';
  const lines: string[] = [];
  for (const m of s.members) {
    if (m.type === 'struct') {
      const nested = schema.structs.get(m.struct!)!;
      out += cDeclaration(schema, nested, done);
      lines.push(`  struct ${cTag(nested)} ${m.cName};`);
    } else if (m.type === 'binary' || m.type === 'pad') lines.push(`  __u8 ${m.cName}[${m.size}];`);
    else if (m.bits) lines.push(`  ${cInt[m.type as IntType]} ${m.cName} : ${m.bits.width};`);
    else lines.push(`  ${cInt[m.type as IntType]} ${m.cName}${m.count === undefined ? '' : `[${m.count}]`};`);
  }
  return `${out}struct ${cTag(s)} {\n${lines.join('\n')}\n};\n`;
}

/** One assignment of bit-field values (by member) to try in C. */
export type BitCase = Map<Member, number | bigint>;

export interface CResult {
  size: number;
  /** offsetof of the given members. */
  offsets: Map<Member, number>;
  /** Per case: the struct's bytes, and each bit field as C reads it back. */
  cases: { bytes: Uint8Array; readBack: Map<Member, number | bigint> }[];
}

const literal = (m: Member, v: number | bigint) => {
  const t = m.type as IntType;
  if (is64(t)) return t.startsWith('s') ? `(${v}LL)` : `${v}ULL`;
  return t === 'u32' ? `${v}U` : `(${v})`;
};

/**
 * Runs `cases` in C for struct `s` (declared by `prelude`, e.g. `#include <linux/tcp.h>`):
 * each case zeroes a struct, sets the given bit fields, dumps the bytes and reads every
 * bit field of the case back. Also reports sizeof and the offsetof of `offsetMembers`.
 */
export function runStructInC(prelude: string, s: StructDef, offsetMembers: Member[], cases: BitCase[]): CResult {
  const tag = `struct ${cTag(s)}`;
  const body: string[] = [`  printf("size %zu\\n", sizeof(${tag}));`];
  for (const m of offsetMembers) body.push(`  printf("offset %zu\\n", offsetof(${tag}, ${m.cName}));`);
  for (const c of cases) {
    const sets = [...c].map(([m, v]) => `s.${m.cName} = ${literal(m, v)};`).join(' ');
    const reads = [...c.keys()]
      .map((m) => ((m.type as IntType).startsWith('s') ? `printf(" %lld", (long long)s.${m.cName});` : `printf(" %llu", (unsigned long long)s.${m.cName});`))
      .join(' ');
    body.push(`  { ${tag} s; memset(&s, 0, sizeof s); ${sets} dump(&s, sizeof s); printf("values"); ${reads} printf("\\n"); }`);
  }
  const source = [
    prelude,
    '#include <stddef.h>',
    '#include <stdio.h>',
    '#include <string.h>',
    '#include <linux/types.h>',
    'static __attribute__((unused)) void dump(const void *p, size_t n) {',
    '  const unsigned char *b = p;',
    '  printf("bytes ");',
    '  for (size_t i = 0; i < n; i++) printf("%02x", b[i]);',
    '  printf("\\n");',
    '}',
    'int main(void) {',
    ...body,
    '  return 0;',
    '}',
    '',
  ].join('\n');
  const lines = runC(source).trim().split('\n');
  const size = Number(lines.shift()!.split(' ')[1]);
  const offsets = new Map<Member, number>();
  for (const m of offsetMembers) offsets.set(m, Number(lines.shift()!.split(' ')[1]));
  const out: CResult['cases'] = [];
  for (const c of cases) {
    const hex = lines.shift()!.split(' ')[1] ?? '';
    const bytes = Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
    const values = lines.shift()!.trim().split(/\s+/).slice(1);
    const readBack = new Map<Member, number | bigint>();
    [...c.keys()].forEach((m, i) => readBack.set(m, is64(m.type) ? BigInt(values[i]!) : Number(values[i]!)));
    out.push({ bytes, readBack });
  }
  return { size, offsets, cases: out };
}

/** A small seeded PRNG (mulberry32), so the C cases are the same on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Values to try for a bit field: all ones, one, the top bit, and random ones (C semantics for signed types). */
export function bitValues(m: Member, rand: () => number, count = 3): (number | bigint)[] {
  const w = m.bits!.width;
  const signed = (m.type as IntType).startsWith('s');
  const wide = is64(m.type);
  const fromUnsigned = (u: bigint): number | bigint => {
    const v = signed && u >= 1n << BigInt(w - 1) ? u - (1n << BigInt(w)) : u;
    return wide ? v : Number(v);
  };
  const max = (1n << BigInt(w)) - 1n;
  const picks = [max, 1n, 1n << BigInt(w - 1)];
  for (let i = 0; i < count; i++) picks.push(BigInt(Math.floor(rand() * 2 ** 30)) * BigInt(Math.floor(rand() * 2 ** 30) + 1) & max);
  return picks.map(fromUnsigned);
}

/** The headers of a schema file's `c-header` (a comma-separated list). */
export const cHeaders = (cHeader: string | undefined): string[] => (cHeader ?? '').split(',').map((h) => h.trim()).filter(Boolean);

/**
 * The prelude that includes a schema file's headers: libc's socket headers first (uapi
 * headers such as linux/sctp.h use sockaddr_storage and MSG_*), as generator/headers does.
 */
export function includePrelude(headers: string[]): string {
  const all = [...new Set(['sys/socket.h', 'netinet/in.h', ...headers])];
  all.sort((a, b) => Number(a.startsWith('linux/')) - Number(b.startsWith('linux/')));
  return ['#define _GNU_SOURCE', ...all.map((h) => `#include <${h}>`)].join('\n');
}

/** The text of a struct's body in one of `headers` under /usr/include, or undefined when none defines it. */
export function headerStructBody(headers: string[], s: StructDef): string | undefined {
  for (const header of headers) {
    const file = join('/usr/include', header);
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
    const m = new RegExp(`struct\\s+${cTag(s)}\\s*\\{`).exec(text);
    if (!m) continue;
    // The body up to the matching brace (it may hold unions and nested structs).
    let depth = 1;
    let i = m.index + m[0].length;
    for (; i < text.length && depth > 0; i++) depth += text[i] === '{' ? 1 : text[i] === '}' ? -1 : 0;
    return text.slice(m.index + m[0].length, i - 1);
  }
  return undefined;
}

export const mentions = (body: string, cName: string): boolean => new RegExp(`\\b${cName}\\b`).test(body);

export { intBytes };
