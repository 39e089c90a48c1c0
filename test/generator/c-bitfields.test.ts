/**
 * Bit fields (and member offsets) checked against C: for every struct of the schema
 * whose kernel header is installed under /usr/include, a C program compiled with gcc sets
 * the struct's bit fields, dumps its bytes and reads the fields back; the generated
 * decoder must give the same values from those bytes, and the encoder the same bytes.
 * Only fields the installed header has are checked (it may be older or newer than the
 * schema: tcp_info grows with every kernel). Skipped, visibly, without gcc.
 */
import { describe, expect, it } from 'vitest';
import type { Member, StructDef } from '../../generator/model.js';
import { bitValues, cHeaders, gccMissing, headerStructBody, includePrelude, mentions, prng, runStructInC, type BitCase } from '../helpers/c-layout.js';
import { snapshotModules } from '../helpers/generation.js';
import { exactView, is64, SEED, structsWithModule } from '../helpers/model-values.js';

const { schema, modules } = snapshotModules('cbits', { skip: () => gccMissing !== undefined });

interface Target {
  s: StructDef;
  module: string;
  /** The schema file's headers, and the include lines for them. */
  header: string;
  prelude: string;
  /** Bit fields the installed header has. */
  bits: Member[];
  /** Plain members the installed header has (for offsetof). */
  plain: Member[];
  /** Schema members the installed header lacks. */
  missing: Member[];
}

const targets: Target[] = [];
const notInstalled: string[] = [];
for (const { s, module } of structsWithModule(schema)) {
  const headers = cHeaders(schema.files.find((f) => f.module === module)!.cHeader);
  const header = headers.join(', ');
  const body = headerStructBody(headers, s);
  if (body === undefined) {
    notInstalled.push(`${s.cName} (${headers.length > 0 ? `not in /usr/include/{${header}}` : 'no c-header'})`);
    continue;
  }
  const named = s.members.filter((m) => m.type !== 'pad');
  const present = named.filter((m) => mentions(body, m.cName));
  targets.push({
    s,
    module,
    header,
    prelude: includePrelude(headers),
    bits: present.filter((m) => m.bits),
    plain: present.filter((m) => !m.bits),
    missing: named.filter((m) => !mentions(body, m.cName)),
  });
}


const hasInetAddress = (s: StructDef): boolean =>
  s.members.some((m) => m.hint === 'inet-address' || (m.type === 'struct' && hasInetAddress(schema.structs.get(m.struct!)!)));

describe('layouts and bit fields against gcc and the installed kernel headers', () => {
  if (gccMissing) {
    it.skip(`skipped: ${gccMissing}`, () => {});
    return;
  }

  it('the schema has bit fields the installed headers define (tcp_info, inet_diag_sockopt)', () => {
    expect(targets.flatMap((t) => t.bits).length).toBeGreaterThan(0);
    if (notInstalled.length > 0) console.info(`not checked against C: ${notInstalled.join(', ')}`);
  });

  describe.each(targets.map((t) => [t.s.cName, t] as const))('%s', (_name, t) => {
    const { s } = t;

    it(`member offsets agree with gcc on <${t.header}>`, () => {
      if (t.missing.length > 0) console.info(`${s.cName}: the installed <${t.header}> lacks ${t.missing.map((m) => m.cName).join(', ')}`);
      const c = runStructInC(t.prelude, s, t.plain, []);
      for (const m of t.plain) expect(c.offsets.get(m), `offsetof(${s.cName}, ${m.cName})`).toBe(m.offset);
      if (t.missing.length === 0) expect(c.size, `sizeof(${s.cName})`).toBe(s.size);
      else expect(c.size).toBeLessThanOrEqual(s.size);
    });

    it.runIf(t.bits.length > 0)(`bit fields decode and encode as gcc lays them out (${t.bits.map((m) => m.cName).join(', ')})`, () => {
      const rand = prng(SEED);
      const cases: BitCase[] = [];
      // Each field alone, at its extremes and at random values...
      for (const m of t.bits) for (const v of bitValues(m, rand)) cases.push(new Map([[m, v]]));
      // ...and all together.
      for (let i = 0; i < 20; i++) cases.push(new Map(t.bits.map((m) => [m, bitValues(m, rand, 1)[3]!] as const)));
      for (let i = 0; i < 3; i++) cases.push(new Map(t.bits.map((m) => [m, bitValues(m, rand, 0)[i]!] as const)));
      const c = runStructInC(t.prelude, s, [], cases);
      expect(c.size).toBeGreaterThanOrEqual(s.minSize);
      const mod = modules.get(t.module)!;
      const famArgs = s.needsFamily ? [10] : [];
      cases.forEach((cs, i) => {
        const { bytes, readBack } = c.cases[i]!;
        const decoded = mod[`decode${s.tsName}`](exactView(bytes), 0, bytes.length, ...famArgs) as Record<string, unknown>;
        const what = [...cs].map(([m, v]) => `${m.cName}=${v}`).join(' ');
        for (const m of t.bits) expect(decoded[m.tsName], `${m.cName} after ${what}`).toBe(readBack.get(m) ?? (is64(m.type) ? 0n : 0));
        if (!hasInetAddress(s)) {
          const encoded = mod[`encode${s.tsName}`](decoded, ...famArgs) as Uint8Array;
          expect(Array.from(encoded.subarray(0, bytes.length)), `encoded bytes after ${what}`).toEqual(Array.from(bytes));
        }
      });
    });
  });
});
