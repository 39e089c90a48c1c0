/**
 * Address text: IPv4 texts are cached by value; the cache must never change what
 * is printed, however many addresses pass through it.
 */
import { describe, expect, it } from 'vitest';
import { formatInetAddress } from '../../runtime/codec.js';

function ipv4(a: number, b: number, c: number, d: number): DataView {
  return new DataView(Uint8Array.from([a, b, c, d]).buffer);
}

describe('formatInetAddress', () => {
  it('writes dotted quads in network order, the extremes included', () => {
    expect(formatInetAddress(ipv4(127, 0, 0, 1), 0, 4)).toBe('127.0.0.1');
    expect(formatInetAddress(ipv4(0, 0, 0, 0), 0, 4)).toBe('0.0.0.0');
    expect(formatInetAddress(ipv4(255, 255, 255, 255), 0, 4)).toBe('255.255.255.255');
    expect(formatInetAddress(ipv4(10, 200, 3, 128), 0, 4)).toBe('10.200.3.128');
  });

  it('gives the same text before and after many other addresses went through the cache', () => {
    const first = formatInetAddress(ipv4(192, 0, 2, 7), 0, 4);
    for (let i = 0; i < 20_000; i++) {
      expect(formatInetAddress(ipv4(10, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff), 0, 4)).toBe(`10.${(i >> 16) & 0xff}.${(i >> 8) & 0xff}.${i & 0xff}`);
    }
    expect(formatInetAddress(ipv4(192, 0, 2, 7), 0, 4)).toBe(first);
    expect(first).toBe('192.0.2.7');
  });
});
