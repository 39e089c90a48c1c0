/**
 * cli/json-bytes.ts: numbers written as bytes in place must be exactly what
 * JSON.stringify writes, at every magnitude: the 32-bit integers written digit by
 * digit, and the rest (safe integers beyond 32 bits, doubles, NaN) by their text.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NUMBER_ROOM, writeNumber, writePlainString } from '../../cli/json-bytes.js';

/** What writeNumber writes for `n`, as text. */
function written(n: number): string {
  const buf = Buffer.alloc(NUMBER_ROOM + 8, 0x7e);
  const end = writeNumber(buf, 4, n);
  expect(end - 4).toBeLessThanOrEqual(NUMBER_ROOM);
  // Nothing written before the position or past the end it returns.
  expect(buf.subarray(0, 4).every((b) => b === 0x7e)).toBe(true);
  expect(buf.subarray(end).every((b) => b === 0x7e)).toBe(true);
  return buf.toString('latin1', 4, end);
}

const edges = [0, -0, 9, 10, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, -(2 ** 31) - 1, 2 ** 32 - 1, 2 ** 32, 1e8, 1e8 + 1, 3e8 + 5, 1e15 + 7, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53, 1e21, 0.5, NaN, Infinity, -Infinity];

describe('writeNumber', () => {
  it('writes edge values as JSON.stringify does', () => {
    for (const n of edges) expect(written(n), String(n)).toBe(JSON.stringify(n));
  });

  it('writes every safe integer, 32-bit integer and double as JSON.stringify does', () => {
    fc.assert(fc.property(fc.oneof(fc.maxSafeInteger(), fc.integer(), fc.double()), (n) => written(n) === JSON.stringify(n)), { numRuns: 20000, seed: 11 });
  });
});

describe('writePlainString', () => {
  it('copies printable ASCII and refuses what JSON escapes', () => {
    const buf = Buffer.alloc(16);
    expect(writePlainString(buf, 0, 'cubic')).toBe(5);
    expect(buf.toString('latin1', 0, 5)).toBe('cubic');
    for (const s of ['"', '\\', '\n', '\u007f', 'é']) expect(writePlainString(buf, 0, `a${s}`)).toBe(-1);
  });
});
