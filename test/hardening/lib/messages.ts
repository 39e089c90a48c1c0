/**
 * Captured kernel replies taken apart into a fixed header and its attributes, and put
 * back together with changes (an attribute cut short, dropped, replaced, or unknown
 * ones added), with a netlink attribute encoder written here independently of
 * runtime/attributes.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NetlinkMessage } from '../../../runtime/netlink-socket.js';
import { REPO } from '../../fuzz/core.js';

export interface Attr {
  /** The 16-bit type field as sent (flags included). */
  type: number;
  payload: Uint8Array;
}

export interface Split {
  header: Uint8Array;
  attrs: Attr[];
}

/** The SOCK_DIAG_BY_FAMILY payloads of a fixture in test/fixtures/kernel. */
export function fixturePayloads(name: string): Uint8Array[] {
  const f = JSON.parse(readFileSync(join(REPO, 'test/fixtures/kernel', name), 'utf8')) as { messages: { type: number; payload: string }[] };
  return f.messages.filter((m) => m.type === 20).map((m) => Uint8Array.from(Buffer.from(m.payload, 'hex')));
}

/** Splits a payload into its `headerSize`-byte header and its attributes (lengths trusted: it is a captured reply). */
export function split(payload: Uint8Array, headerSize: number): Split {
  const v = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const attrs: Attr[] = [];
  for (let o = headerSize; o + 4 <= payload.length; ) {
    const len = v.getUint16(o, true);
    attrs.push({ type: v.getUint16(o + 2, true), payload: payload.slice(o + 4, o + len) });
    o += (len + 3) & ~3;
  }
  return { header: payload.slice(0, headerSize), attrs };
}

/** One attribute: header, payload, zero padding to 4 bytes. */
export function attr(type: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array((4 + payload.length + 3) & ~3);
  const v = new DataView(out.buffer);
  v.setUint16(0, 4 + payload.length, true);
  v.setUint16(2, type, true);
  out.set(payload, 4);
  return out;
}

export function join2(s: Split): Uint8Array {
  const parts = [s.header, ...s.attrs.map((a) => attr(a.type, a.payload))];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
}

/** A reply message over `payload`, placed at an odd offset of a bigger buffer. */
export function messageOf(payload: Uint8Array): NetlinkMessage {
  const buf = new Uint8Array(payload.length + 10).fill(0xa5);
  buf.set(payload, 5);
  return { type: 20, flags: 2, seq: 1, pid: 0, view: new DataView(buf.buffer, 2), offset: 3, length: payload.length };
}

export const bytesOf = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 131 + seed * 17 + 7) & 0xff);
