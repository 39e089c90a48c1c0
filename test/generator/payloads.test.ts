/**
 * Short and long payloads, for every struct and attribute set of the schema:
 *
 * - a prefix of any length from min-size to size decodes to the members it holds and
 *   undefined for the rest (tcp_info: older kernels send less), and reads nothing past
 *   the given length; shorter prefixes throw DecodeError with the offset;
 * - a payload longer than the struct keeps the bytes past it in `extra`;
 * - the attribute walker rejects an attribute whose length overruns or is below the
 *   header size, keeps unknown types with their bytes, and tolerates missing or extra
 *   trailing padding.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { Project } from 'ts-morph';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../runtime/codec.js';
import { snapshotModules } from '../helpers/generation.js';
import {
  attrSetValueArb,
  concat,
  embedded,
  exactView,
  families,
  intBytes,
  isIntType,
  knownIds,
  rawAttr,
  SEED,
  setFamilies,
  setsWithModule,
  structsWithModule,
  typeMask,
  upper,
} from '../helpers/model-values.js';

const generated = snapshotModules('payloads');
const { schema, modules } = generated;
const { inet, inet6 } = families(schema);
const structs = structsWithModule(schema);
const sets = setsWithModule(schema);

/** Runs `f` and returns what it threw. */
function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('struct payload lengths', () => {
  it('the schema has a struct with min-size < size (tcp_info) once schema/tcp.yaml exists', () => {
    const tcp = schema.structs.get('tcp-info');
    if (!tcp) return; // tcp.yaml not written yet
    expect(tcp.minSize).toBeLessThan(tcp.size);
  });

  describe.each(structs.map(({ s, module }) => [s.name, s, module] as const))('%s', (_name, s, module) => {
    const m = () => modules.get(module)!;
    const decode = (...a: unknown[]) => m()[`decode${s.tsName}`](...a) as Record<string, unknown>;
    const famArgs = s.needsFamily ? [inet6] : [];
    const fields = s.members.filter((x) => x.type !== 'pad');
    const bytesArb = fc.uint8Array({ minLength: s.size, maxLength: s.size }).map((b) => {
      setFamilies(schema, s, b, 0, [inet, inet6]);
      return b;
    });

    it(`every prefix of ${s.minSize}..${s.size} bytes gives the members it holds, the others undefined`, () => {
      fc.assert(
        fc.property(bytesArb, (bytes) => {
          const full = decode(exactView(bytes), 0, s.size, ...famArgs);
          for (let len = s.minSize; len <= s.size; len++) {
            // A view of exactly `len` bytes: reading past the length throws a RangeError.
            const got = decode(exactView(bytes.subarray(0, len)), 0, len, ...famArgs);
            for (const x of fields) {
              const present = x.offset + x.size <= len;
              expect(got[x.tsName], `${x.name} with ${len} bytes`).toEqual(present ? full[x.tsName] : undefined);
              if (x.required) expect(present).toBe(true);
            }
            expect(got.extra).toBeUndefined();
          }
        }),
        { seed: SEED, numRuns: 10 },
      );
    });

    it(`fewer than ${s.minSize} bytes throw DecodeError with the offset`, () => {
      const bytes = new Uint8Array(s.size);
      for (let len = 0; len < s.minSize; len++) {
        const { view, offset } = embedded(bytes.subarray(0, len), 9);
        const e = thrown(() => decode(view, offset, len, ...famArgs)) as DecodeError;
        expect(e).toBeInstanceOf(DecodeError);
        expect(e.offset).toBe(9);
        expect(e.what).toBe(s.cName);
        expect(e.message).toContain(`needs ${s.minSize} bytes, got ${len}`);
      }
    });

    it('a longer payload keeps the bytes past the struct in extra', () => {
      fc.assert(
        fc.property(bytesArb, fc.uint8Array({ minLength: 1, maxLength: 40 }), (bytes, tail) => {
          const whole = concat(bytes, tail);
          const { view, offset } = embedded(whole);
          const got = decode(view, offset, whole.length, ...famArgs);
          const { extra, ...rest } = got;
          expect(extra).toEqual(tail);
          const { extra: none, ...plain } = decode(exactView(bytes), 0, s.size, ...famArgs);
          expect(none).toBeUndefined();
          expect(rest).toEqual(plain);
        }),
        { seed: SEED, numRuns: 50 },
      );
    });

    it.runIf(s.minSize < s.size)('exports MIN_SIZE and types the later members as optional', () => {
      expect(m()[`${upper(s.name)}_MIN_SIZE`]).toBe(s.minSize);
      const text = readFileSync(join(generated.dir, `${module}.ts`), 'utf8');
      const iface = new Project({ useInMemoryFileSystem: true }).createSourceFile('x.ts', text).getInterfaceOrThrow(s.tsName);
      for (const x of fields) expect(iface.getPropertyOrThrow(x.tsName).hasQuestionToken(), x.name).toBe(!x.required);
      expect(fields.some((x) => !x.required)).toBe(true);
    });
  });
});

describe('attribute walker', () => {
  describe.each(sets.map(({ set, module }) => [set.name, set, module] as const))('%s', (_name, set, module) => {
    const m = () => modules.get(module)!;
    const decode = (bytes: Uint8Array, before = 6) => {
      const { view, offset } = embedded(bytes, before);
      return m()[`decode${set.tsName}`](view, offset, bytes.length) as Record<string, unknown>;
    };
    const known = knownIds(set);
    let unknownId = 1;
    while (known.has(unknownId)) unknownId++;
    const good = rawAttr(unknownId, [1, 2, 3, 4]);

    it('an attribute whose length overruns the payload throws DecodeError at that attribute', () => {
      // The header says 8 bytes, 6 are there.
      const e1 = thrown(() => decode(good.subarray(0, 6), 6)) as DecodeError;
      expect(e1).toBeInstanceOf(DecodeError);
      expect(e1.offset).toBe(6);
      expect(e1.message).toContain('length 8 with 6 bytes left');
      // The same after a good attribute.
      const e2 = thrown(() => decode(concat(good, rawAttr(unknownId, [9, 9, 9, 9, 9, 9], { len: 200 })), 6)) as DecodeError;
      expect(e2).toBeInstanceOf(DecodeError);
      expect(e2.offset).toBe(6 + 8);
    });

    it.each([0, 1, 2, 3])('an attribute length of %i (below the 4-byte header) throws DecodeError', (len) => {
      const bytes = concat(good, rawAttr(unknownId, [0, 0, 0, 0], { len }));
      const e = thrown(() => decode(bytes, 6)) as DecodeError;
      expect(e).toBeInstanceOf(DecodeError);
      expect(e.offset).toBe(6 + 8);
    });

    it('keeps attributes of unknown types, with their bytes, in order, flag bits masked off', () => {
      fc.assert(
        fc.property(
          fc.array(
            fc.record({
              type: fc.integer({ min: 0, max: typeMask(schema) }).filter((t) => !known.has(t)),
              flags: fc.constantFrom(0, 0x4000, 0x8000, 0xc000),
              bytes: fc.uint8Array({ maxLength: 21 }),
            }),
            { minLength: 1, maxLength: 5 },
          ),
          (attrs) => {
            const got = decode(concat(...attrs.map((a) => rawAttr(a.type | a.flags, a.bytes))));
            expect(got).toEqual({ unknown: attrs.map((a) => ({ type: a.type, bytes: a.bytes })) });
          },
        ),
        { seed: SEED, numRuns: 100 },
      );
    });

    it('tolerates a last attribute without its padding, and up to 3 stray trailing bytes', () => {
      const one = rawAttr(unknownId, [0x7f], { pad: false }); // 5 bytes, no padding
      expect(decode(one)).toEqual({ unknown: [{ type: unknownId, bytes: Uint8Array.of(0x7f) }] });
      for (const tail of [1, 2, 3]) {
        const padded = concat(rawAttr(unknownId, [0x7f]), new Uint8Array(tail));
        expect(decode(padded)).toEqual({ unknown: [{ type: unknownId, bytes: Uint8Array.of(0x7f) }] });
      }
      expect(decode(new Uint8Array(0))).toEqual({});
      fc.assert(
        fc.property(attrSetValueArb(schema, set, 1), fc.integer({ min: 1, max: 3 }), (x, tail) => {
          const bytes = m()[`encode${set.tsName}`](x) as Uint8Array;
          expect(decode(concat(bytes, new Uint8Array(tail)))).toEqual(x);
        }),
        { seed: SEED, numRuns: 50 },
      );
    });

    const ints = set.attributes.filter((a) => isIntType(a.type));
    it.runIf(ints.length > 0)('an integer attribute with a payload too short for its type throws DecodeError', () => {
      for (const a of ints) {
        const size = intBytes[a.type as keyof typeof intBytes];
        const bytes = concat(good, rawAttr(a.value, new Uint8Array(size - 1)));
        const e = thrown(() => decode(bytes, 6)) as DecodeError;
        expect(e, a.name).toBeInstanceOf(DecodeError);
        expect(e.offset, a.name).toBe(6 + 8 + 4);
        expect(e.what, a.name).toBe(a.cName);
      }
    });

    const structAttrs = set.attributes.filter((a) => a.struct !== undefined && a.type === 'binary' && schema.structs.get(a.struct)!.minSize > 0);
    it.runIf(structAttrs.length > 0)('a struct attribute shorter than the struct min-size throws DecodeError', () => {
      for (const a of structAttrs) {
        const st = schema.structs.get(a.struct!)!;
        const bytes = concat(good, rawAttr(a.value, new Uint8Array(st.minSize - 1)));
        const e = thrown(() => decode(bytes, 6)) as DecodeError;
        expect(e, a.name).toBeInstanceOf(DecodeError);
        expect(e.offset, a.name).toBe(6 + 8 + 4);
        expect(e.what, a.name).toBe(st.cName);
      }
    });
  });
});
