/**
 * fast-check arbitraries and byte-level helpers derived from the schema model
 * (generator/model.ts), so that the property tests cover every struct and attribute
 * set that exists when they run.
 *
 * Conventions of the generated code that these helpers mirror (see schema/README.md):
 * - 64-bit integers decode to bigint, others to number; `len` on an integer makes an array;
 * - `cookie` is a bigint, `inet-address` is address text chosen by the address family
 *   (IPv4 in the first 4 bytes for AF_INET, all 16 bytes for AF_INET6);
 * - a bit field is a number of `width` bits (C semantics: signed types sign-extend);
 * - pad members have no field; they (and C's implicit alignment padding) encode as zero.
 */
import fc from 'fast-check';
import type { AttributeSet, IntType, Member, Schema, StructDef } from '../../generator/model.js';

export const intBytes: Record<IntType, number> = { u8: 1, u16: 2, u32: 4, u64: 8, s8: 1, s16: 2, s32: 4, s64: 8 };
export const isIntType = (t: string): t is IntType => t in intBytes;
export const is64 = (t: string): boolean => t === 'u64' || t === 's64';
const isSigned = (t: IntType) => t.startsWith('s');

/** The values of AF_INET and AF_INET6 in the schema. */
export function families(schema: Schema): { inet: number; inet6: number } {
  const af = schema.enums.get('address-family');
  const v = (n: string) => af?.entries.find((e) => e.name === n)?.value;
  const inet = v('inet');
  const inet6 = v('inet6');
  if (inet === undefined || inet6 === undefined) throw new Error('the schema has no address-family inet/inet6');
  return { inet, inet6 };
}

/** An integer of type `t` (or a bit field of `bits` bits stored in one), as the decoders give it. */
export function intArb(t: IntType, bits?: number): fc.Arbitrary<number | bigint> {
  const width = bits ?? intBytes[t] * 8;
  const signed = isSigned(t);
  if (is64(t)) {
    const w = BigInt(width);
    return signed ? fc.bigInt({ min: -(1n << (w - 1n)), max: (1n << (w - 1n)) - 1n }) : fc.bigInt({ min: 0n, max: (1n << w) - 1n });
  }
  return signed ? fc.integer({ min: -(2 ** (width - 1)), max: 2 ** (width - 1) - 1 }) : fc.integer({ min: 0, max: 2 ** width - 1 });
}

// ---------------------------------------------------------------------------------
// Address text, written independently of runtime/codec.ts: inet_ntop(3) as glibc does
// it (RFC 5952 compression through the WHATWG URL serializer, plus glibc's dotted
// tails for IPv4-mapped and IPv4-compatible addresses).

export function ipv4Text(b: ArrayLike<number>): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

export function ipv6Text(b: ArrayLike<number>): string {
  const w = Array.from({ length: 8 }, (_, i) => (b[2 * i]! << 8) | b[2 * i + 1]!);
  const tail = `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  if (w.slice(0, 5).every((x) => x === 0) && w[5] === 0xffff) return `::ffff:${tail}`;
  if (w.slice(0, 6).every((x) => x === 0) && w[6] !== 0) return `::${tail}`;
  return new URL(`http://[${w.map((x) => x.toString(16)).join(':')}]/`).hostname.slice(1, -1);
}

/** 16 address bytes, biased towards zero runs, mapped and compatible addresses. */
export const ipv6Bytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ minLength: 16, maxLength: 16 }),
  fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 }).map((words) => {
    const out = new Uint8Array(16);
    words.forEach((x, i) => ((out[2 * i] = x >> 8), (out[2 * i + 1] = x & 0xff)));
    return out;
  }),
  fc.uint8Array({ minLength: 4, maxLength: 4 }).map((v4) => Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4])),
  fc.uint8Array({ minLength: 4, maxLength: 4 }).map((v4) => Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ...v4])),
);
export const ipv4TextArb = fc.uint8Array({ minLength: 4, maxLength: 4 }).map(ipv4Text);
export const ipv6TextArb = ipv6Bytes.map(ipv6Text);

// ---------------------------------------------------------------------------------
// Struct values

/** The member that holds a struct's address family. */
export function familyMember(s: StructDef): Member | undefined {
  return s.addressFamily === undefined ? undefined : s.members.find((m) => m.tsName === s.addressFamily);
}

/**
 * A decoded value of struct `s` whose inet-address members are valid text for their
 * family: the struct's own family member (if it has one) is AF_INET or AF_INET6, else
 * `family` (from the enclosing struct or the caller) is used. Every member is set.
 */
export function structValueArb(schema: Schema, s: StructDef, family?: number): fc.Arbitrary<Record<string, unknown>> {
  const fm = familyMember(s);
  if (fm) {
    const { inet, inet6 } = families(schema);
    return fc.constantFrom(inet, inet6).chain((f) => structFields(schema, s, f, fm));
  }
  return structFields(schema, s, family, undefined);
}

function structFields(schema: Schema, s: StructDef, family: number | undefined, fm: Member | undefined) {
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const m of s.members) {
    if (m.type === 'pad') continue;
    fields[m.tsName] = m === fm ? fc.constant(family) : memberArb(schema, m, family);
  }
  return fc.record(fields);
}

function memberArb(schema: Schema, m: Member, family: number | undefined): fc.Arbitrary<unknown> {
  if (m.hint === 'cookie') return intArb('u64');
  if (m.hint === 'inet-address') {
    const { inet, inet6 } = families(schema);
    if (family === inet) return ipv4TextArb;
    if (family === inet6) return ipv6TextArb;
    throw new Error(`member ${m.name}: inet-address needs family AF_INET or AF_INET6, not ${family}`);
  }
  if (m.hint === 'ipv4') return ipv4TextArb;
  if (m.hint === 'ipv6') return ipv6TextArb;
  if (m.type === 'binary') return fc.uint8Array({ minLength: m.size, maxLength: m.size });
  if (m.type === 'struct') return structValueArb(schema, schema.structs.get(m.struct!)!, family);
  const t = m.type as IntType;
  const one = intArb(t, m.bits?.width);
  return m.count === undefined ? one : fc.array(one, { minLength: m.count, maxLength: m.count });
}

/** Whether decoding `s` needs a `family` argument. */
export const takesFamily = (s: StructDef): boolean => s.needsFamily;

// ---------------------------------------------------------------------------------
// Bytes

function readInt(view: DataView, at: number, t: IntType, bigEndian: boolean): number {
  const le = !bigEndian;
  switch (intBytes[t]) {
    case 1:
      return view.getUint8(at);
    case 2:
      return view.getUint16(at, le);
    case 4:
      return view.getUint32(at, le);
    default:
      return Number(view.getBigUint64(at, le));
  }
}

function writeInt(view: DataView, at: number, t: IntType, bigEndian: boolean, v: number): void {
  const le = !bigEndian;
  switch (intBytes[t]) {
    case 1:
      return view.setUint8(at, v);
    case 2:
      return view.setUint16(at, v, le);
    case 4:
      return view.setUint32(at, v, le);
    default:
      return view.setBigUint64(at, BigInt(v), le);
  }
}

/**
 * Sets the family member of `s` at `base` (and of every nested struct that has its
 * own) to values taken in turn from `choices` (cycled).
 */
export function setFamilies(schema: Schema, s: StructDef, bytes: Uint8Array, base: number, choices: number[]): void {
  let i = 0;
  const walk = (st: StructDef, at: number) => {
    const fm = familyMember(st);
    if (fm && choices.length > 0) writeInt(new DataView(bytes.buffer, bytes.byteOffset), at + fm.offset, fm.type as IntType, fm.bigEndian, choices[i++ % choices.length]!);
    for (const m of st.members) if (m.type === 'struct') walk(schema.structs.get(m.struct!)!, at + m.offset);
  };
  walk(s, base);
}

/**
 * The bits of a struct's bytes that survive decode then encode: every bit of a member,
 * the bits of bit fields, 4 bytes of an AF_INET inet-address and 16 of an AF_INET6 one;
 * not pad members, C's alignment padding, or the unused bits of a bit-field unit.
 * Returns undefined when an inet-address member has a family other than AF_INET/AF_INET6
 * (its text is hex, which the encoder does not take back).
 */
export function significantBits(schema: Schema, s: StructDef, bytes: Uint8Array, family?: number): Uint8Array | undefined {
  const mask = new Uint8Array(s.size);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { inet, inet6 } = families(schema);
  let ok = true;
  const walk = (st: StructDef, at: number, fam: number | undefined) => {
    const fm = familyMember(st);
    if (fm) fam = readInt(view, at + fm.offset, fm.type as IntType, fm.bigEndian);
    for (const m of st.members) {
      const o = at + m.offset;
      if (m.type === 'pad') continue;
      if (m.type === 'struct') walk(schema.structs.get(m.struct!)!, o, fam);
      else if (m.hint === 'inet-address') {
        if (fam === inet) mask.fill(0xff, o, o + 4);
        else if (fam === inet6) mask.fill(0xff, o, o + 16);
        else ok = false;
      } else if (m.hint === 'ipv4') mask.fill(0xff, o, o + 4);
      else if (m.hint === 'ipv6') mask.fill(0xff, o, o + 16);
      else if (m.bits) {
        for (let b = m.bits.shift; b < m.bits.shift + m.bits.width; b++) mask[o + (b >> 3)]! |= 1 << (b & 7);
      } else mask.fill(0xff, o, o + m.size);
    }
  };
  walk(s, 0, family);
  return ok ? mask : undefined;
}

export const and = (a: Uint8Array, mask: Uint8Array): Uint8Array => a.map((x, i) => x & mask[i]!);

/** `bytes` copied into a larger buffer: a view that starts at byte 3 of it, and the offset of the copy in that view. */
export function embedded(bytes: Uint8Array, before = 5, after = 7): { view: DataView; offset: number } {
  const buf = new Uint8Array(3 + before + bytes.length + after).fill(0xa5);
  buf.set(bytes, 3 + before);
  return { view: new DataView(buf.buffer, 3), offset: before };
}

/** Exactly `bytes` (its own ArrayBuffer), so a read past the end throws a RangeError. */
export function exactView(bytes: Uint8Array): DataView {
  return new DataView(bytes.slice().buffer);
}

// ---------------------------------------------------------------------------------
// Attribute sets

export const valuedAttributes = (set: AttributeSet) => set.attributes.filter((a) => a.type !== 'unused' && a.type !== 'pad');

/** Ids the decoder of `set` does not put in `unknown`: its valued and pad attributes. */
export function knownIds(set: AttributeSet): Set<number> {
  return new Set(set.attributes.filter((a) => a.type !== 'unused').map((a) => a.value));
}

/** The largest attribute type the decoders keep (NLA_TYPE_MASK). */
export function typeMask(schema: Schema): number {
  for (const f of schema.files) for (const d of f.definitions) if (d.kind === 'const' && d.name === 'nla-type-mask') return d.value;
  return 0x3fff;
}

const text = fc.string({ unit: 'grapheme', maxLength: 24 }).filter((s) => !s.includes('\0'));

/**
 * A decoded value of attribute set `set`: any subset of its attributes with values of
 * their types, and sometimes unknown attributes (ids the set does not know) at the end.
 * With a `selector` that picks a variant of an attribute, that attribute's value is the
 * variant's struct, in the variant's field.
 */
export function attrSetValueArb(schema: Schema, set: AttributeSet, depth = 2, selector?: number): fc.Arbitrary<Record<string, unknown>> {
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const a of valuedAttributes(set)) {
    // An attribute with variants holds another struct, in another field, when the decoder's selector picks one.
    const variant = a.variants?.list.find((v) => v.value === selector);
    if (variant) {
      fields[variant.tsName] = structValueArb(schema, schema.structs.get(variant.struct)!);
      continue;
    }
    let arb: fc.Arbitrary<unknown>;
    if (isIntType(a.type)) arb = intArb(a.type);
    else if (a.type === 'flag') arb = fc.constant(true);
    else if (a.type === 'string') arb = text;
    else if (a.type === 'nest') arb = depth > 0 ? attrSetValueArb(schema, schema.sets.get(a.nested!)!, depth - 1) : fc.constant({});
    else if (a.struct) arb = structValueArb(schema, schema.structs.get(a.struct)!);
    else if (a.subType) arb = fc.array(intArb(a.subType), { maxLength: 12 });
    else arb = fc.uint8Array({ maxLength: 40 });
    fields[a.tsName] = arb;
  }
  const known = knownIds(set);
  const unknownAttr = fc.record({
    type: fc.integer({ min: 0, max: typeMask(schema) }).filter((t) => !known.has(t)),
    bytes: fc.uint8Array({ maxLength: 24 }),
  });
  fields.unknown = fc.array(unknownAttr, { minLength: 1, maxLength: 3 });
  return fc.record(fields, { requiredKeys: [] });
}

/** Selector values that pick a variant of some attribute of `set` (empty when none has variants). */
export function variantSelectors(set: AttributeSet): number[] {
  return [...new Set(set.attributes.flatMap((a) => a.variants?.list.map((v) => v.value) ?? []))];
}

/** Netlink attribute bytes written by hand (little-endian host), independent of runtime/attributes.ts. */
export function rawAttr(type: number, payload: ArrayLike<number>, opts: { len?: number; pad?: boolean } = {}): Uint8Array {
  const len = opts.len ?? 4 + payload.length;
  const total = opts.pad === false ? 4 + payload.length : (4 + payload.length + 3) & ~3;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint16(0, len, true);
  view.setUint16(2, type, true);
  out.set(Array.from(payload), 4);
  return out;
}

export const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
};

// ---------------------------------------------------------------------------------
// Names of the generated functions

/** Every struct of the schema with the module (generated file) that defines it. */
export function structsWithModule(schema: Schema): { s: StructDef; module: string }[] {
  return schema.files.flatMap((f) => f.definitions.filter((d): d is StructDef => d.kind === 'struct').map((s) => ({ s, module: f.module })));
}

export function setsWithModule(schema: Schema): { set: AttributeSet; module: string }[] {
  return schema.files.flatMap((f) => f.attributeSets.map((set) => ({ set, module: f.module })));
}

/** `tcp-info` → `TCP_INFO` */
export const upper = (name: string): string => name.replace(/-/g, '_').toUpperCase();

/** The fixed seed of every property in these tests (change it to explore, keep it to reproduce). */
export const SEED = 20260604;
