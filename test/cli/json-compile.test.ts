/**
 * cli/json-compile.ts, the writers JsonText compiles per record layout: once a place
 * has seen the same keys a few times its objects are written by a compiled writer,
 * which must write exactly what the generic walk (and JSON.stringify) writes, and
 * hand back every object that differs from its layout in any way.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { socketJson } from '../../cli/json.js';
import { JsonText, Shape } from '../../cli/json-text.js';
import type { AnySocket } from '../../cli/rows.js';

/** What `--json` printed for a socket before the writer: JSON.stringify of the record. */
function reference(netid: string, s: object, users?: unknown[]): string {
  const body = JSON.stringify(s);
  const fields = body.length > 2 ? `,${body.slice(1, -1)}` : '';
  return `{"netid":${JSON.stringify(netid)}${fields}${users ? `,"users":${JSON.stringify(users)}` : ''}}`;
}

/** `o` written by `text` as socketJson writes a record's fields: after a first field, so each with its comma. */
function fieldsOf(o: object, text: JsonText, shape: Shape): string {
  text.raw('{"x":0');
  text.fields(o, false, shape);
  text.raw('}');
  return text.take();
}

/** What fieldsOf writes, by JSON.stringify. */
function expected(o: object): string {
  const body = JSON.stringify(o);
  return `{"x":0${body.length > 2 ? `,${body.slice(1, -1)}` : ''}}`;
}

/** Strings that need escaping: quotes, backslashes, controls, DEL, non-ASCII, astral, lone surrogates. */
const hardString = fc.oneof(
  fc.string({ unit: 'binary', minLength: 1 }),
  fc.constantFrom('"', '\\', '\u0000', '\u001f', '\u007f', '\u0080', 'é', '\u2028', '😀', '\ud800', '\udfff x', '/tmp/"q"\n\t\x1b[31m'),
);
const number = fc.oneof(
  fc.integer(),
  fc.maxSafeInteger(),
  fc.nat(9),
  fc.double(),
  fc.constantFrom(0, -0, 9, 10, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 2 ** 32 - 1, 2 ** 53 - 1, -(2 ** 53 - 1), 3e8 + 5, 1e15 + 7, 2 ** 53, 1e21, -1.7976931348623157e308, -0.0000012345678901234567, NaN, Infinity, -Infinity),
);
const scalar = fc.oneof(hardString, fc.string(), number, fc.bigInt(), fc.uint8Array({ maxLength: 8 }), fc.boolean(), fc.constant(null), fc.constant(undefined));
const { tree } = fc.letrec((tie) => ({
  tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('array'), tie('object')),
  array: fc.array(tie('tree'), { maxLength: 4 }),
  object: fc.dictionary(fc.string({ maxLength: 6 }), tie('tree'), { maxKeys: 5 }),
}));

/** Keys as records have them (mostly plain ASCII names), and now and then anything. */
const key = fc.oneof({ weight: 4, arbitrary: fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,7}$/) }, { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 4 }), hardString) });

/** The kind of value under a key of a layout; a nested layout for a nested object. */
type Kind = 'number' | 'string' | 'bigint' | 'boolean' | 'null' | 'undefined' | 'bytes' | 'array' | Layout;
type Layout = [string, Kind][];
const { layout } = fc.letrec<{ layout: Layout; kind: Kind }>((tie) => ({
  layout: fc.array(fc.tuple(key, tie('kind')), { maxLength: 8 }),
  kind: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom<Kind>('number', 'number', 'number', 'string', 'bigint', 'boolean', 'null', 'undefined', 'bytes', 'array'),
    tie('layout'),
  ),
}));

/** A record of `l`: the keys of the layout in order, values of their kinds. */
function recordOf(l: Layout): fc.Arbitrary<Record<string, unknown>> {
  const value = (kind: Kind): fc.Arbitrary<unknown> => {
    if (Array.isArray(kind)) return recordOf(kind);
    switch (kind) {
      case 'number':
        return number;
      case 'string':
        // Mostly strings the compiled writers write themselves; some they must give back.
        return fc.oneof({ weight: 5, arbitrary: fc.string({ unit: fc.constantFrom(...'az09 .:/-_[]'.split('')) }) }, { weight: 1, arbitrary: hardString });
      case 'bigint':
        return fc.oneof(fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }), fc.bigInt({ min: -(2n ** 54n), max: 2n ** 54n }), fc.bigInt());
      case 'boolean':
        return fc.boolean();
      case 'null':
        return fc.constant(null);
      case 'undefined':
        return fc.constant(undefined);
      case 'bytes':
        return fc.uint8Array({ maxLength: 8 });
      case 'array':
        return fc.array(tree, { maxLength: 3 });
    }
  };
  return fc.tuple(...l.map(([, kind]) => value(kind))).map((values) => Object.fromEntries(l.map(([k], i) => [k, values[i]])));
}

/** A change that takes a record off its layout, somewhere in it (`path`: into nested objects). */
type Mutation =
  | { op: 'delete' | 'undefine' | 'escape'; path: number[]; at: number; value?: unknown }
  | { op: 'insert' | 'set'; path: number[]; at: number; key: string; value: unknown }
  | { op: 'swap'; path: number[]; at: number; to: number };
const path = fc.array(fc.nat(), { maxLength: 2 });
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constantFrom('delete' as const, 'undefine' as const), path, at: fc.nat() }),
  fc.record({ op: fc.constant('escape' as const), path, at: fc.nat(), value: hardString }),
  fc.record({ op: fc.constantFrom('insert' as const, 'set' as const), path, at: fc.nat(), key, value: tree }),
  fc.record({ op: fc.constant('swap' as const), path, at: fc.nat(), to: fc.nat() }),
);

const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;

/** A copy of `o` with `m` applied (the record itself is left as it is). */
function mutate(o: Record<string, unknown>, m: Mutation, depth = 0): Record<string, unknown> {
  const entries = Object.entries(o);
  if (entries.length === 0) return m.op === 'insert' || m.op === 'set' ? { [m.key]: m.value } : o;
  const at = m.at % entries.length;
  if (depth < m.path.length) {
    const i = m.path[depth]! % entries.length;
    const inner = entries[i]![1];
    if (isPlain(inner)) {
      entries[i] = [entries[i]![0], mutate(inner, m, depth + 1)];
      return Object.fromEntries(entries);
    }
  }
  switch (m.op) {
    case 'delete':
      entries.splice(at, 1);
      break;
    case 'undefine':
      entries[at] = [entries[at]![0], undefined];
      break;
    case 'escape':
      entries[at] = [entries[at]![0], m.value];
      break;
    case 'insert':
      entries.splice(at, 0, [m.key, m.value]);
      break;
    case 'set':
      entries[at] = [entries[at]![0], m.value];
      break;
    case 'swap': {
      const to = m.to % entries.length;
      [entries[at], entries[to]] = [entries[to]!, entries[at]!];
      break;
    }
  }
  return Object.fromEntries(entries);
}

/** True when every key of `l` (nested ones too) is written as printable ASCII, so its layout compiles. */
const compilable = (l: Layout): boolean => l.every(([k, kind]) => /^[\x20-\x7e]*$/.test(JSON.stringify(k)) && (!Array.isArray(kind) || compilable(kind)));

describe('compiled writers', () => {
  it('write what JSON.stringify writes: many records of one layout, then records that differ', () => {
    fc.assert(
      fc.property(
        layout.chain((l) => fc.tuple(fc.constant(l), fc.array(recordOf(l), { minLength: 6, maxLength: 12 }), fc.array(fc.tuple(mutation, recordOf(l)), { minLength: 1, maxLength: 6 }))),
        ([l, records, changes]) => {
          const text = new JsonText();
          const shape = new Shape();
          for (const r of records) expect(fieldsOf(r, text, shape)).toBe(expected(r));
          // The same keys six times and more: a writer was compiled for them.
          if (compilable(l)) expect(shape.writers.length).toBeGreaterThan(0);
          for (const [m, r] of changes) {
            const changed = mutate(r, m);
            // The changed record, then a few more times (compiled too), then the first layout again.
            for (let i = 0; i < 5; i++) expect(fieldsOf(changed, text, shape)).toBe(expected(changed));
            expect(fieldsOf(r, text, shape)).toBe(expected(r));
          }
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('socketJson: records of one layout, then ones that differ, with and without users', () => {
    fc.assert(
      fc.property(
        layout.chain((l) => fc.tuple(fc.array(recordOf(l), { minLength: 6, maxLength: 12 }), fc.array(fc.tuple(mutation, recordOf(l)), { maxLength: 4 }))),
        fc.option(fc.array(fc.record({ name: fc.oneof(fc.string(), hardString), pid: fc.nat(), fd: fc.nat() }), { maxLength: 3 }), { nil: undefined }),
        ([records, changes], users) => {
          for (const r of records) expect(socketJson('tcp', r as unknown as AnySocket, users)).toBe(reference('tcp', r, users));
          for (const [m, r] of changes) {
            const changed = mutate(r, m);
            expect(socketJson('tcp', changed as unknown as AnySocket, users)).toBe(reference('tcp', changed, users));
            expect(socketJson('tcp', r as unknown as AnySocket)).toBe(reference('tcp', r));
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('hand back each kind of difference to the generic walk (a TCP-like record)', () => {
    const text = new JsonText();
    const shape = new Shape();
    const base = (i: number) => ({
      family: 'inet',
      state: 'established',
      sport: 20000 + i,
      dport: i * 7919,
      cookie: BigInt(i) * 1_000_000_007n,
      inode: 2 ** 31 + i,
      extra: undefined,
      open: i % 2 === 0,
      gone: null,
      key: Uint8Array.of(i, 255),
      skmeminfo: [i, 0, 212992],
      sockopt: { recverr: 0, isIcsk: 1, unused: undefined },
      info: { rtt: i, rto: 204000, rate: 1.5 * i, pacingRate: 18446744073709551615n, cong: 'bbr' },
    });
    const check = (o: object) => expect(fieldsOf(o, text, shape)).toBe(expected(o));
    for (let i = 0; i < 6; i++) check(base(i));
    expect(shape.writers).toHaveLength(1);
    // The nested objects got their own writers (the 11th and 12th fields written).
    expect(shape.inner(10).writers).toHaveLength(1);
    expect(shape.inner(11).writers).toHaveLength(1);

    const cases: [string, (o: ReturnType<typeof base>) => object][] = [
      ['a missing key', ({ dport: _, ...o }) => o],
      ['an extra key at the end', (o) => ({ ...o, more: 1 })],
      ['an extra key inside', ({ family, ...o }) => ({ family, added: 'x', ...o })],
      ['two keys swapped', ({ family, state, ...o }) => ({ state, family, ...o })],
      ['a number that became a string', (o) => ({ ...o, sport: '20000' })],
      ['a number that became a bigint', (o) => ({ ...o, sport: 20000n })],
      ['a string that became a number', (o) => ({ ...o, state: 1 })],
      ['a bigint that became a number', (o) => ({ ...o, cookie: 5 })],
      ['null that became a number', (o) => ({ ...o, gone: 0 })],
      ['undefined that became a value', (o) => ({ ...o, extra: 'here' })],
      ['a value that became undefined', (o) => ({ ...o, state: undefined })],
      ['a value that became a function', (o) => ({ ...o, state: () => 1 })],
      ['a nested object that became undefined', (o) => ({ ...o, info: undefined })],
      ['a nested object that became null', (o) => ({ ...o, info: null })],
      ['a nested object that became an array', (o) => ({ ...o, info: [1, 2] })],
      ['a nested object with a missing key', (o) => ({ ...o, info: { rtt: 1, rto: 2, rate: 3, pacingRate: 4n } })],
      ['a nested value of another type', (o) => ({ ...o, sockopt: { recverr: '0', isIcsk: 1, unused: undefined } })],
      ['bytes that became a string', (o) => ({ ...o, key: 'ab' })],
      ['a string with a quote', (o) => ({ ...o, state: 'a"b' })],
      ['a string with a backslash', (o) => ({ ...o, state: 'a\\b' })],
      ['a string with a control character', (o) => ({ ...o, state: 'a\nb\u0000' })],
      ['a string with DEL', (o) => ({ ...o, state: 'a\u007f' })],
      ['a non-ASCII string', (o) => ({ ...o, state: 'é😀\u2028' })],
      ['a lone surrogate', (o) => ({ ...o, state: 'x\ud800y' })],
      ['a nested string to escape', (o) => ({ ...o, info: { ...o.info, cong: 'b"b\udfff' } })],
      ['numbers JSON writes as null or 0', (o) => ({ ...o, sport: NaN, dport: -0, inode: Infinity })],
      ['numbers beyond 32 bits and fractions', (o) => ({ ...o, sport: 2 ** 53, dport: -(2 ** 31), inode: -1.7976931348623157e308, info: { ...o.info, rtt: -0.0000012345678901234567 } })],
      ['a huge bigint', (o) => ({ ...o, cookie: -(10n ** 60n) })],
      ['a class instance', (o) => ({ ...o, sockopt: new Date(0) })],
      ['an object with toJSON', (o) => ({ ...o, sockopt: { toJSON: () => 'custom' } })],
    ];
    for (const [what, change] of cases) {
      const changed = change(base(7));
      expect(fieldsOf(changed, text, shape), what).toBe(expected(changed));
      expect(fieldsOf(base(8), text, shape), `after ${what}`).toBe(expected(base(8)));
    }
    // A writer compiled for the record is still the one writing it.
    expect(shape.writers.length).toBeGreaterThan(0);
  });

  it('compile again when the kinds of the values change, and keep writing right', () => {
    const text = new JsonText();
    const shape = new Shape();
    const kinds = [1, 'one', 1n, true, null, { a: 1 }, [1], Uint8Array.of(1)];
    for (const v of kinds)
      for (let i = 0; i < 5; i++) {
        const o = { a: 0, v, b: 'x' };
        expect(fieldsOf(o, text, shape)).toBe(expected(o));
      }
    // A few writers, then the generic walk for the rest.
    expect(shape.writers.length).toBeGreaterThan(1);
    expect(shape.writers.length).toBeLessThanOrEqual(4);
  });

  it('stop trying writers at a place where they keep missing', () => {
    const text = new JsonText();
    const shape = new Shape();
    for (let i = 0; i < 5; i++) fieldsOf({ a: i, s: 'plain' }, text, shape);
    expect(shape.writers).toHaveLength(1);
    // Strings that need escaping: the writer misses, every time.
    for (let i = 0; i < 400; i++) expect(fieldsOf({ a: i, s: `"${i}"` }, text, shape)).toBe(expected({ a: i, s: `"${i}"` }));
    expect(shape.writers).toHaveLength(0);
    expect(fieldsOf({ a: 1, s: 'plain' }, text, shape)).toBe('{"x":0,"a":1,"s":"plain"}');
  });

  it('write constant text made of every printable ASCII character at every position of its 8-byte stores', () => {
    // The keys' JSON text is stored 8 bytes at a time as doubles: every printable
    // character, in each of the 8 places of a store (shifted by one key each time).
    const printable = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).join('');
    for (let shift = 0; shift < 8; shift++) {
      const o: Record<string, number> = {};
      for (let i = 0; i < printable.length; i += 11) o[`${'k'.repeat(shift)}${printable.slice(i, i + 11)}`] = i;
      const text = new JsonText();
      const shape = new Shape();
      for (let i = 0; i < 6; i++) expect(fieldsOf(o, text, shape)).toBe(expected(o));
      expect(shape.writers).toHaveLength(1);
    }
  });

  it('write only inside the room they reserve, padding of the 8-byte stores included', () => {
    // A sink whose buffer ends exactly where the room reserved last ends: a store
    // past it throws (DataView) or is lost (Uint8Array), and the text comes out wrong.
    class TightText extends JsonText {
      override reserve(n: number): void {
        const exact = Buffer.alloc(this.pos + n);
        this.buf.copy(exact, 0, 0, this.pos);
        this.buf = exact;
        this.view = new DataView(exact.buffer, exact.byteOffset, exact.byteLength);
      }
    }
    // Keys of every length modulo 8, each followed by each kind of value, the record
    // ending on each of them in turn. No numbers: the 25 bytes each reserves would
    // hide an overrun of the text after it.
    const values = ['ab', 5n, true, null];
    for (let last = 0; last < values.length; last++) {
      const o: Record<string, unknown> = {};
      for (let len = 1; len <= 8; len++) for (let v = 0; v <= last; v++) o[`${'k'.repeat(len)}${v}`] = values[v];
      const text = new TightText();
      const shape = new Shape();
      for (let i = 0; i < 6; i++) expect(fieldsOf(o, text, shape)).toBe(expected(o));
      expect(shape.writers).toHaveLength(1);
    }
  });

  it('write the first field without a comma when asked to', () => {
    const text = new JsonText();
    const shape = new Shape();
    for (let i = 0; i < 6; i++) {
      text.raw('{');
      text.fields({ skipped: undefined, a: i, b: [i] }, true, shape);
      text.raw('}');
      expect(text.take()).toBe(JSON.stringify({ a: i, b: [i] }));
    }
    expect(shape.writers).toHaveLength(1);
  });
});
