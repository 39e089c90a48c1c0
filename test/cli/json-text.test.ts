/**
 * cli/json-text.ts, the hand-written JSON writer behind `--json`: for any value it
 * writes exactly what JSON.stringify writes (with the bigint and Uint8Array forms
 * cli/json.ts installs), and socketJson is the old `{"netid":…, …record, "users":…}`.
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

function write(value: unknown, text = new JsonText(), shape = new Shape()): string {
  text.value(value, shape);
  return text.take();
}

/** Strings that need escaping: quotes, backslashes, controls, DEL, non-ASCII, astral, lone surrogates. */
const hardString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('', '"', '\\', '\u0000', '\u001f', '\u007f', '\u0080', 'é', '\u2028', '😀', '\ud800', '\udfff x', '/tmp/"q"\n\t\x1b[31m'),
);
const scalar = fc.oneof(
  hardString,
  fc.integer(),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  fc.maxSafeInteger(),
  fc.double(),
  fc.constantFrom(0, -0, 9, 10, 99, 100, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 2 ** 32 - 1, 2 ** 53 - 1, -(2 ** 53 - 1), 3e8 + 5, 1e15 + 7, 2 ** 53, 1e21, 0.1, NaN, Infinity, -Infinity),
  fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }),
  fc.bigInt({ min: -(2n ** 54n), max: 2n ** 54n }),
  fc.uint8Array({ maxLength: 40 }),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
);
/** Any JSON-ish value: nested objects (keys that need escaping too) and arrays, with the command's extra kinds. */
const { tree } = fc.letrec((tie) => ({
  tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('array'), tie('object')),
  array: fc.array(tie('tree'), { maxLength: 6 }),
  object: fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), hardString), tie('tree'), { maxKeys: 8 }),
}));

describe('JsonText', () => {
  it('writes what JSON.stringify writes, for any value', () => {
    fc.assert(
      fc.property(tree, (value) => {
        expect(write(value)).toBe(JSON.stringify(value) ?? 'null');
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps writing the same while the keys of objects at one place change (shapes relearn)', () => {
    const text = new JsonText();
    const shape = new Shape();
    fc.assert(
      fc.property(fc.array(tree, { minLength: 1, maxLength: 20 }), (values) => {
        for (const v of values) expect(write({ a: v, b: [v, { c: v }] }, text, shape)).toBe(JSON.stringify({ a: v, b: [v, { c: v }] }));
      }),
      { numRuns: 300 },
    );
  });

  it('bigints as decimal strings, Uint8Arrays as hex, undefined fields skipped, undefined elements null', () => {
    const value = { big: 18446744073709551615n, neg: -5n, bytes: Uint8Array.from([0, 0xab, 0xff]), empty: new Uint8Array(0), gone: undefined, fn: () => 1, list: [1, undefined, () => 1, [2n, [Uint8Array.of(1)]]] };
    expect(write(value)).toBe('{"big":"18446744073709551615","neg":"-5","bytes":"00abff","empty":"","list":[1,null,null,["2",["01"]]]}');
    expect(write(value)).toBe(JSON.stringify(value));
  });

  it('writes arrays of numbers (as skmeminfo) as JSON.stringify does: NaN and infinities null, holes null', () => {
    const arrays = [[], [0], [1, 2, 3], [-0, NaN, Infinity, -Infinity, 1e21, 2 ** 53, 0.1, -(2 ** 31), 4294967295], Array.from({ length: 300 }, (_, i) => i * 1e7), [1, , 3]];
    for (const a of arrays) expect(write(a)).toBe(JSON.stringify(a));
    fc.assert(fc.property(fc.array(fc.oneof(fc.integer(), fc.double(), fc.maxSafeInteger())), (a) => write(a) === JSON.stringify(a)), { numRuns: 2000, seed: 13 });
  });

  it('escapes a UNIX path with quotes, control characters and non-ASCII as JSON.stringify does', () => {
    const path = '@sock"diag\\-\x1b[31m-\u00ff-\n-\u0000-é-😀-\ud800';
    const text = new JsonText();
    const out = write({ path, 'k"é\n': 1, after: 'plain' }, text);
    expect(out).toBe(JSON.stringify({ path, 'k"é\n': 1, after: 'plain' }));
    expect(JSON.parse(out)).toEqual({ path, 'k"é\n': 1, after: 'plain' });
    // The writer is reused: an all-ASCII record after a UTF-8 one comes out right, and so
    // does a non-ASCII key met again through a learnt shape.
    expect(write({ a: 'x' }, text)).toBe('{"a":"x"}');
    const shape = new Shape();
    for (let i = 0; i < 3; i++) expect(write({ é: i }, text, shape)).toBe(`{"é":${i}}`);
  });

  it('hands other objects (Date, Map, Buffer, class instances, own toJSON) to JSON.stringify', () => {
    class Point {
      x = 1;
    }
    const value = { d: new Date(0), m: new Map([[1, 2]]), b: Buffer.from('hi'), p: new Point(), t: { toJSON: () => 'custom' }, u16: Uint16Array.of(1, 2), n: Object.create(null) as object };
    expect(write(value)).toBe(JSON.stringify(value));
  });

  it('grows its buffer for large values', () => {
    const value = { s: 'x'.repeat(200_000), bytes: new Uint8Array(100_000).fill(7), list: Array.from({ length: 50_000 }, (_, i) => i * 7919) };
    expect(write(value)).toBe(JSON.stringify(value));
  });
});

describe('socketJson', () => {
  it('is the record with netid first and users last, as before', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.dictionary(fc.string({ maxLength: 8 }), tree, { maxKeys: 10 }),
        fc.option(fc.array(fc.record({ name: hardString, pid: fc.nat(), fd: fc.nat() }), { maxLength: 3 }), { nil: undefined }),
        (netid, record, users) => {
          expect(socketJson(netid, record as unknown as AnySocket, users)).toBe(reference(netid, record, users));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('an empty record is just netid', () => {
    expect(socketJson('tcp', {} as AnySocket)).toBe('{"netid":"tcp"}');
    expect(socketJson('tcp', {} as AnySocket, [])).toBe('{"netid":"tcp","users":[]}');
  });
});
