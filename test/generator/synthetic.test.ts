/**
 * Generator corners the real schema does not reach (yet): a synthetic schema file,
 * added to a copy of schema/ (the emitters need netlink's constants and socket's
 * address families), is generated into a temporary folder and put through the same properties as the real
 * schema, plus a check of every layout against gcc. Each struct and attribute set is its
 * own test, so a failure names the construct that breaks.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSchema } from '../../generator/load.js';
import type { Member, StructDef } from '../../generator/model.js';
import { bitValues, cDeclaration, gccMissing, prng, runStructInC, type BitCase } from '../helpers/c-layout.js';
import { copySchema, freshGeneration, osTempDir, SCHEMA_DIR, typecheck, type Generation, type Module } from '../helpers/generation.js';
import { exactView, is64, SEED } from '../helpers/model-values.js';
import { checkAttrSetRoundTrip, checkAttrSetView, checkBytesRoundTrip, checkDifferential, checkStructView, checkValueRoundTrip, checkWriteInPlace } from '../helpers/properties.js';
import { DatagramLease } from '../../runtime/lease.js';

const SYNTH = `
name: synth
doc: Synthetic structs and attributes for the generator tests.
definitions:
  - name: synth-packed-bits
    type: struct
    doc: Bit fields that do not fit the rest of their unit move to the next one; alignment after a run.
    members:
      - {name: a, type: u8, bits: 5}
      - {name: b, type: u8, bits: 5}
      - {name: c, type: u16, bits: 12}
      - {name: d, type: u16, bits: 6}
      - {name: e, type: u32}
      - {name: f, type: u8, bits: 1}
  - name: synth-wide-bits
    type: struct
    doc: A bit field as wide as its unit, and one that ends at the top bit.
    members:
      - {name: whole, type: u32, bits: 32}
      - {name: low, type: u32, bits: 31}
      - {name: top, type: u32, bits: 1}
  - name: synth-signed-bits
    type: struct
    doc: Signed bit fields, which C sign-extends.
    members:
      - {name: x, type: s8, bits: 4}
      - {name: y, type: s8, bits: 4}
  - name: synth-endpoint
    type: struct
    doc: Needs the family from outside.
    members:
      - {name: port, type: u16, byte-order: big-endian}
      - {name: addr, type: binary, len: 16, display-hint: inet-address}
  - name: synth-all
    type: struct
    address-family: fam
    doc: Every member kind, with alignment gaps between them.
    members:
      - {name: fam, type: u16, enum: address-family}
      - {name: s8v, type: s8}
      - {name: s16v, type: s16, byte-order: big-endian}
      - {name: s32v, type: s32}
      - {name: s64v, type: s64}
      - {name: u64v, type: u64, byte-order: big-endian}
      - {name: u64s, type: u64, len: 2}
      - {name: s16s, type: s16, len: 3, byte-order: big-endian}
      - {name: v4, type: binary, len: 4, display-hint: ipv4}
      - {name: v6, type: binary, len: 16, display-hint: ipv6}
      - {name: cookie, type: u32, len: 2, display-hint: cookie}
      - {name: gap, type: pad, len: 3}
      - {name: blob, type: binary, len: 5}
      - {name: local, type: struct, struct: synth-endpoint}
      - {name: remote, type: struct, struct: synth-endpoint}
      - {name: last, type: u8}
attribute-sets:
  - name: synth-attrs
    name-prefix: SYNTH_
    attributes:
      - {name: none, type: unused, value: 0}
      - {name: s8a, type: s8}
      - {name: s16a, type: s16}
      - {name: s32a, type: s32}
      - {name: s64a, type: s64}
      - {name: be16, type: u16, byte-order: big-endian}
      - {name: be32, type: u32, byte-order: big-endian}
      - {name: be64, type: u64, byte-order: big-endian}
      - {name: u16s, type: binary, sub-type: u16}
      - {name: u64s, type: binary, sub-type: u64}
      - {name: on, type: flag}
      - {name: label, type: string}
      - {name: packed, type: binary, struct: synth-packed-bits}
      - {name: inner, type: nest, nested-attributes: synth-inner-attrs}
      - {name: pad, type: pad}
      - {name: far, type: u32, value: 100}
      - name: info
        type: binary
        struct: synth-packed-bits
        variants:
          selector: address-family
          list:
            - {when: inet, name: info-inet, struct: synth-wide-bits}
            - {when: inet6, name: info-inet6, struct: synth-all}
  - name: synth-inner-attrs
    name-prefix: SYNTH_INNER_
    attributes:
      - {name: unspec, type: unused, value: 0}
      - {name: id, type: u32}
      - {name: again, type: nest, nested-attributes: synth-attrs}
  - name: synth-signed-array-attrs
    name-prefix: SYNTH_SA_
    attributes:
      - {name: none, type: unused, value: 0}
      - {name: s8s, type: binary, sub-type: s8}
      - {name: s16s, type: binary, sub-type: s16}
      - {name: s32s, type: binary, sub-type: s32}
  - name: synth-signed-array64-attrs
    name-prefix: SYNTH_SA64_
    attributes:
      - {name: none, type: unused, value: 0}
      - {name: s64s, type: binary, sub-type: s64}
`;

// With a copy of the whole schema, for netlink's constants and socket's address families.
const schemaDir = osTempDir('sockdiag-synth-');
copySchema(SCHEMA_DIR, schemaDir);
writeFileSync(join(schemaDir, 'synth.yaml'), SYNTH);

let gen: Generation;
let mod: Module;
let ref: Module;
beforeAll(async () => {
  gen = freshGeneration('synth', schemaDir, false);
  mod = await gen.module('synth');
  ref = await gen.reference('synth');
}, 120_000);
afterAll(() => {
  gen?.cleanup();
  rmSync(schemaDir, { recursive: true, force: true });
});

// The model is needed at collection time, before beforeAll.
const schema = loadSchema(schemaDir);
const synthFile = schema.files.find((f) => f.module === 'synth')!;
const structs = synthFile.definitions.filter((d): d is StructDef => d.kind === 'struct');
const hasInetAddress = (s: StructDef): boolean =>
  s.members.some((m) => m.hint === 'inet-address' || (m.type === 'struct' && hasInetAddress(schema.structs.get(m.struct!)!)));

it('the synthetic generated code type-checks under the strict tsconfig', () => {
  const tsc = typecheck(gen.dir);
  expect(tsc.files).toEqual(expect.arrayContaining(['synth.ts', 'reference/synth.ts']));
  expect(tsc.output).toBe('');
}, 120_000);

describe.each(structs.map((s) => [s.name, s] as const))('%s', (_name, s) => {
  it('decode(encode(x)) equals x', () => checkValueRoundTrip(schema, mod, s, 200));
  it('write() in place', () => checkWriteInPlace(schema, mod, s, 50));
  it('encode(decode(bytes)) equals bytes, but for the bits no field holds', () => checkBytesRoundTrip(schema, mod, s, 200));
  it('the fast and reference decoders agree', () => checkDifferential(schema, mod, ref, s, 500));
  it('the view reads what the decoder decodes', () => checkStructView(schema, mod, s, () => new DatagramLease(), 200));

  it.skipIf(gccMissing !== undefined)(`layout and bit fields agree with gcc${gccMissing ? ` (skipped: ${gccMissing})` : ''}`, () => {
    const rand = prng(SEED);
    const bits = s.members.filter((m) => m.bits);
    const plain = s.members.filter((m) => !m.bits);
    const cases: BitCase[] = [];
    for (const m of bits) for (const v of bitValues(m, rand)) cases.push(new Map([[m, v]]));
    for (let i = 0; i < 10 && bits.length > 0; i++) cases.push(new Map(bits.map((m) => [m, bitValues(m, rand, 1)[3]!] as const)));
    const decls = `#include <linux/types.h>\n${cDeclaration(schema, s)}`;
    const c = runStructInC(decls, s, plain, cases);
    expect(c.size, 'sizeof').toBe(s.size);
    for (const m of plain) expect(c.offsets.get(m), `offsetof ${m.cName}`).toBe(m.offset);
    cases.forEach((cs, i) => {
      const { bytes, readBack } = c.cases[i]!;
      const what = [...cs].map(([m, v]: [Member, number | bigint]) => `${m.cName}=${v}`).join(' ');
      const decoded = mod[`decode${s.tsName}`](exactView(bytes), 0, bytes.length) as Record<string, unknown>;
      for (const m of bits) expect(decoded[m.tsName], `${m.cName} after ${what}`).toBe(readBack.get(m) ?? (is64(m.type) ? 0n : 0));
      if (!hasInetAddress(s)) {
        const encoded = mod[`encode${s.tsName}`](decoded) as Uint8Array;
        expect(Array.from(encoded), `encoded after ${what}`).toEqual(Array.from(bytes));
      }
    });
  });
});

describe.each(synthFile.attributeSets.map((set) => [set.name, set] as const))('%s', (_name, set) => {
  it('decode(encode(x)) equals x, unknown attributes included', () => checkAttrSetRoundTrip(schema, mod, set, 200));
  it('the view reads what the decoder decodes', () => checkAttrSetView(schema, mod, set, () => new DatagramLease(), 100));
});
