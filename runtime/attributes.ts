/**
 * Netlink attribute encoding: type-length-value records, each padded to the
 * attribute alignment. Decoding is generated per attribute set.
 */
import { NLA_ALIGNTO, NLA_HDRLEN } from '../generated/netlink.js';
import { LE } from './codec.js';

const pad = (n: number) => (n + NLA_ALIGNTO - 1) & ~(NLA_ALIGNTO - 1);

/** Encodes `[type, payload]` pairs as consecutive, padded netlink attributes. */
export function encodeAttributes(parts: readonly (readonly [number, Uint8Array])[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, [, p]) => n + pad(NLA_HDRLEN + p.length), 0));
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const [type, payload] of parts) {
    // nla_len is 16 bits: a longer attribute would wrap around silently.
    if (NLA_HDRLEN + payload.length > 0xffff) throw new RangeError(`attribute ${type} is ${payload.length} bytes; a netlink attribute holds at most ${0xffff - NLA_HDRLEN}`);
    view.setUint16(offset, NLA_HDRLEN + payload.length, LE);
    view.setUint16(offset + 2, type, LE);
    out.set(payload, offset + NLA_HDRLEN);
    offset += pad(NLA_HDRLEN + payload.length);
  }
  return out;
}

/** An integer payload of `size` bytes, host order unless `bigEndian`. */
export function encodeInt(value: number | bigint, size: number, bigEndian: boolean): Uint8Array {
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  const le = bigEndian ? false : LE;
  if (size === 1) view.setUint8(0, Number(value));
  else if (size === 2) view.setUint16(0, Number(value), le);
  else if (size === 4) view.setUint32(0, Number(value) >>> 0, le);
  else view.setBigUint64(0, BigInt.asUintN(64, BigInt(value)), le);
  return out;
}

/** An array of host-order integers of `size` bytes each. */
export function encodeIntArray(values: readonly (number | bigint)[], size: number): Uint8Array {
  const out = new Uint8Array(values.length * size);
  values.forEach((v, i) => out.set(encodeInt(v, size, false), i * size));
  return out;
}
