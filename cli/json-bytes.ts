/**
 * Bytes of JSON written in place into a Buffer, shared by the generic walk
 * (cli/json-text.ts) and the compiled writers (cli/json-compile.ts).
 */

/**
 * Room for any number as JSON: `String(n)` of a double is at most 24 characters
 * (`-1.7976931348623157e+308`, `-0.0000012345678901234567`), `null` is 4.
 */
export const NUMBER_ROOM = 25;

/** Writes `s`'s characters (no quotes) if all are printable ASCII other than `"` and `\`; else returns -1. */
export function writePlainString(buf: Buffer, p: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return -1;
    buf[p++] = c;
  }
  return p;
}

/**
 * Writes a number as JSON.stringify does, at `p` of `buf`, which has room for
 * {@link NUMBER_ROOM} bytes there; returns the position after.
 */
export function writeNumber(buf: Buffer, p: number, n: number): number {
  if ((n | 0) !== n) return writePlainString(buf, p, Number.isFinite(n) ? String(n) : 'null');
  // A 32-bit integer (-0 included, which JSON writes as 0): its digits, last first.
  if (n < 0) {
    buf[p++] = 0x2d;
    n = -n;
  }
  if (n < 10) {
    buf[p] = 0x30 + n;
    return p + 1;
  }
  const end = p + digitCount(n);
  p = end;
  while (n >= 10) {
    const rest = (n / 10) | 0;
    buf[--p] = 0x30 + n - rest * 10;
    n = rest;
  }
  buf[--p] = 0x30 + n;
  return end;
}

/** Decimal digits of a non-negative integer below 2^32. */
function digitCount(n: number): number {
  if (n < 100000) return n < 100 ? (n < 10 ? 1 : 2) : n < 1000 ? 3 : n < 10000 ? 4 : 5;
  return n < 10000000 ? (n < 1000000 ? 6 : 7) : n < 100000000 ? 8 : n < 1000000000 ? 9 : 10;
}
