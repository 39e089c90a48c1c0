/**
 * The codec properties, written once over the schema model and used for the real
 * schema (roundtrip.test.ts, differential.test.ts) and for synthetic schemas that
 * reach generator corners the real one does not (synthetic.test.ts).
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import type { AttributeSet, Schema, StructDef } from '../../generator/model.js';
import type { Module } from './generation.js';
import { and, attrSetValueArb, embedded, exactView, families, SEED, setFamilies, significantBits, structValueArb, variantSelectors } from './model-values.js';

type Fn = (...a: unknown[]) => any; // eslint-disable-line @typescript-eslint/no-explicit-any

export function structCodec(mod: Module, s: StructDef): { decode: Fn; encode: Fn; write: Fn } {
  return { decode: mod[`decode${s.tsName}`], encode: mod[`encode${s.tsName}`], write: mod[`write${s.tsName}`] };
}

const familyArg = (schema: Schema, needs: boolean) => {
  const { inet, inet6 } = families(schema);
  return needs ? fc.constantFrom<number | undefined>(inet, inet6) : fc.constant<number | undefined>(undefined);
};
const args = (fam: number | undefined) => (fam === undefined ? [] : [fam]);

/** decode(encode(x)) equals x, with and without extra bytes; decoding from a view that starts inside a larger buffer. */
export function checkValueRoundTrip(schema: Schema, mod: Module, s: StructDef, numRuns = 300): void {
  const { decode, encode } = structCodec(mod, s);
  const value = familyArg(schema, s.needsFamily).chain((fam) =>
    fc.tuple(fc.constant(fam), structValueArb(schema, s, fam), fc.option(fc.uint8Array({ minLength: 1, maxLength: 12 }), { nil: undefined })),
  );
  fc.assert(
    fc.property(value, ([fam, v, extra]) => {
      const x = extra ? { ...v, extra } : v;
      const bytes = encode(x, ...args(fam)) as Uint8Array;
      expect(bytes.length).toBe(s.size + (extra?.length ?? 0));
      const { view, offset } = embedded(bytes);
      expect(decode(view, offset, bytes.length, ...args(fam))).toEqual(x);
    }),
    { seed: SEED, numRuns },
  );
}

/** write() at an offset of a dirty buffer gives encode()'s bytes in every field bit, and touches nothing around the struct. */
export function checkWriteInPlace(schema: Schema, mod: Module, s: StructDef, numRuns = 100): void {
  const { encode, write } = structCodec(mod, s);
  fc.assert(
    fc.property(familyArg(schema, s.needsFamily).chain((fam) => fc.tuple(fc.constant(fam), structValueArb(schema, s, fam))), ([fam, v]) => {
      const expected = encode(v, ...args(fam)) as Uint8Array;
      const buf = new Uint8Array(s.size + 16).fill(0xee);
      write(v, new DataView(buf.buffer, 3), 5, ...args(fam));
      expect(buf.subarray(0, 8).every((b) => b === 0xee)).toBe(true);
      expect(buf.subarray(8 + s.size).every((b) => b === 0xee)).toBe(true);
      const mask = significantBits(schema, s, expected, fam)!;
      expect(and(buf.subarray(8, 8 + s.size), mask)).toEqual(and(expected, mask));
    }),
    { seed: SEED, numRuns },
  );
}

/**
 * encode(decode(bytes)) equals bytes in every bit a field holds, and zero elsewhere
 * (pad members, alignment padding, unused bits of a bit-field unit, the 12 bytes an
 * AF_INET inet-address does not use). Family members are set to AF_INET or AF_INET6.
 */
export function checkBytesRoundTrip(schema: Schema, mod: Module, s: StructDef, numRuns = 300): void {
  const { decode, encode } = structCodec(mod, s);
  const { inet, inet6 } = families(schema);
  const input = fc.tuple(
    fc.uint8Array({ minLength: s.size, maxLength: s.size }),
    fc.array(fc.constantFrom(inet, inet6), { minLength: 1, maxLength: 4 }),
    familyArg(schema, s.needsFamily),
  );
  fc.assert(
    fc.property(input, ([bytes, fams, fam]) => {
      setFamilies(schema, s, bytes, 0, fams);
      const mask = significantBits(schema, s, bytes, fam)!;
      const decoded = decode(exactView(bytes), 0, s.size, ...args(fam));
      const again = encode(decoded, ...args(fam)) as Uint8Array;
      expect(again).toEqual(and(bytes, mask));
      expect(decode(exactView(again), 0, s.size, ...args(fam))).toEqual(decoded);
    }),
    { seed: SEED, numRuns },
  );
}

/** The fast decoder and the restructure reference decoder agree on random bytes. */
export function checkDifferential(schema: Schema, mod: Module, ref: Module, s: StructDef, numRuns = 2000): void {
  const { decode } = structCodec(mod, s);
  const refDecode = ref[`referenceDecode${s.tsName}`] as Fn;
  expect(typeof decode).toBe('function');
  expect(typeof refDecode).toBe('function');
  const { inet, inet6 } = families(schema);
  const anyFamily = fc.oneof(fc.constantFrom(inet, inet6), fc.integer({ min: 0, max: 255 }));
  const input = fc.tuple(
    fc.uint8Array({ minLength: s.size, maxLength: s.size }),
    fc.array(anyFamily, { maxLength: 3 }), // family members to force; empty leaves the random bytes
    anyFamily,
  );
  fc.assert(
    fc.property(input, ([bytes, fams, fam]) => {
      setFamilies(schema, s, bytes, 0, fams);
      const a = s.needsFamily ? [fam] : [];
      const { view, offset } = embedded(bytes);
      expect(decode(view, offset, s.size, ...a)).toEqual(refDecode(bytes.slice(), ...a));
    }),
    { seed: SEED, numRuns },
  );
}

/** decode(encode(x)) equals x for attribute-set values, unknown attributes included. */
export function checkAttrSetRoundTrip(schema: Schema, mod: Module, set: AttributeSet, numRuns = 300): void {
  const encode = mod[`encode${set.tsName}`] as Fn;
  const decode = mod[`decode${set.tsName}`] as Fn;
  // Attributes with variants: also with each selector value that picks one (the decoder's last argument).
  const selectors = variantSelectors(set);
  const input =
    selectors.length === 0
      ? attrSetValueArb(schema, set).map((x) => [x, []] as const)
      : fc.constantFrom<number | undefined>(undefined, ...selectors).chain((sel) => attrSetValueArb(schema, set, 2, sel).map((x) => [x, [undefined, sel]] as const));
  fc.assert(
    fc.property(input, ([x, extraArgs]) => {
      const bytes = encode(x) as Uint8Array;
      expect(bytes.length % 4).toBe(0);
      const { view, offset } = embedded(bytes);
      expect(decode(view, offset, bytes.length, ...extraArgs)).toEqual(x);
    }),
    { seed: SEED, numRuns },
  );
}

/** Names of the getters a view class defines, or inherits from the view classes it extends. */
function viewGetters(view: object): string[] {
  const names = new Set<string>();
  for (let p = Object.getPrototypeOf(view) as object | null; p && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    for (const [k, d] of Object.entries(Object.getOwnPropertyDescriptors(p))) if (d.get !== undefined) names.add(k);
  }
  return [...names];
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);

/**
 * A view reads what the eager decoder decodes: `decode()` equals `decoded`; each
 * getter equals its field (nested structs and sets compared the same way, as views);
 * getters of fields the decoder left out read undefined.
 */
export function expectViewOf(view: Record<string, unknown> & { decode(): unknown }, decoded: Record<string, unknown>): void {
  expect(view.decode()).toEqual(decoded);
  for (const k of viewGetters(view)) {
    const want = decoded[k];
    const got = view[k];
    if (isRecord(want)) expectViewOf(got as Parameters<typeof expectViewOf>[0], want);
    else expect(got, k).toEqual(want);
  }
}

/**
 * The struct's view reads what its decoder decodes, from random bytes of every length
 * from the smallest payload to a few bytes past the struct, inside a larger buffer; once
 * its lease ends, reading it throws.
 */
export function checkStructView(schema: Schema, mod: Module, s: StructDef, lease: () => { live: boolean; end(): void }, numRuns = 300): void {
  const { decode } = structCodec(mod, s);
  const View = mod[`${s.tsName}View`] as new (...a: unknown[]) => Record<string, unknown> & { decode(): unknown };
  expect(typeof View).toBe('function');
  const { inet, inet6 } = families(schema);
  const input = fc.tuple(
    fc.uint8Array({ minLength: s.size + 4, maxLength: s.size + 4 }),
    fc.integer({ min: s.minSize, max: s.size + 4 }),
    fc.array(fc.constantFrom(inet, inet6), { minLength: 1, maxLength: 3 }),
    familyArg(schema, s.needsFamily),
  );
  fc.assert(
    fc.property(input, ([full, length, fams, fam]) => {
      setFamilies(schema, s, full, 0, fams);
      const bytes = full.subarray(0, length);
      const { view, offset } = embedded(bytes);
      const l = lease();
      const v = new View(view, offset, length, ...args(fam), l);
      expectViewOf(v, decode(view, offset, length, ...args(fam)));
      l.end();
      expect(() => v.decode()).toThrow(/read after its dump moved past its datagram/);
    }),
    { seed: SEED, numRuns },
  );
}

/** The attribute set's view reads what its decoder decodes, with each selector that picks a variant; once its lease ends, reading it throws. */
export function checkAttrSetView(schema: Schema, mod: Module, set: AttributeSet, lease: () => { live: boolean; end(): void }, numRuns = 200): void {
  const encode = mod[`encode${set.tsName}`] as Fn;
  const decode = mod[`decode${set.tsName}`] as Fn;
  const View = mod[`${set.tsName}View`] as new (...a: unknown[]) => Record<string, unknown> & { decode(): unknown };
  expect(typeof View).toBe('function');
  const selectors = variantSelectors(set);
  const input = fc.constantFrom<number | undefined>(undefined, ...selectors).chain((sel) => attrSetValueArb(schema, set, 2, sel).map((x) => [x, sel] as const));
  fc.assert(
    fc.property(input, ([x, sel]) => {
      const bytes = encode(x) as Uint8Array;
      const { view, offset } = embedded(bytes);
      const l = lease();
      const v = new View(view, offset, bytes.length, l, sel);
      expectViewOf(v, decode(view, offset, bytes.length, undefined, sel));
      l.end();
      expect(() => v.decode()).toThrow(/read after its dump moved past its datagram/);
    }),
    { seed: SEED, numRuns },
  );
}
