/** The fast path of `g` (C's %g) prints what toPrecision(6) prints, for any number. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { g } from '../../cli/details.js';

const reference = (x: number) => String(Number(x.toPrecision(6)));

describe('g', () => {
  it('equals %g with six significant digits on known values', () => {
    for (const x of [0, 1, 204, 0.023, 2.88671875, 123456, 1234567, -123456, -1234567, 0.1234567, 99.99999, 1e-7, 100000.5]) expect(g(x)).toBe(reference(x));
  });

  it('equals it on random numbers of every magnitude', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e12, max: 1e12 }), (x) => g(x) === reference(x)),
      { numRuns: 20000, seed: 20261204 },
    );
    fc.assert(fc.property(fc.integer({ min: 0, max: 1e7 }), (n) => g(n / 1000) === reference(n / 1000)), { numRuns: 20000, seed: 7 });
  });
});
