/**
 * Netlink attribute encoding: type-length-value records, each padded to the
 * attribute alignment. Decoding is generated per attribute set; views look one up by type.
 */
import { NLA_ALIGNTO, NLA_HDRLEN, NLA_TYPE_MASK } from '../generated/netlink.js';
import { DecodeError, LE } from './codec.js';

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

/**
 * The payload offset of the last attribute of `type` among the attributes in `length`
 * bytes at `offset` (the decoders keep the last one too), or -1 when there is none;
 * its payload length is {@link attributePayloadLength}. For views, which look an
 * attribute up when it is read. Every attribute is walked, with the decoders' checks.
 * @throws DecodeError when an attribute's length overruns, as the generated decoders do.
 */
export function findAttribute(view: DataView, offset: number, length: number, type: number, what: string): number {
  let found = -1;
  const end = offset + length;
  while (end - offset >= NLA_HDRLEN) {
    const len = view.getUint16(offset, LE);
    const t = view.getUint16(offset + 2, LE) & NLA_TYPE_MASK;
    if (len < NLA_HDRLEN || len > end - offset) throw new DecodeError(`${what} attribute ${t}`, offset, `length ${len} with ${end - offset} bytes left`);
    if (t === type) found = offset + NLA_HDRLEN;
    offset += pad(len);
  }
  return found;
}

/** The payload length of the attribute whose payload starts at `payload` (from {@link findAttribute}). */
export function attributePayloadLength(view: DataView, payload: number): number {
  return view.getUint16(payload - NLA_HDRLEN, LE) - NLA_HDRLEN;
}
