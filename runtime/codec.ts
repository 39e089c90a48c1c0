/**
 * Helpers that generated decoders and encoders call: host byte order, the decode
 * error, byte copies, text, cookies and address text. Protocol-agnostic: every
 * number that says *what* to read comes from the generated code.
 */

/** True on little-endian hosts; host-order members are read with it. */
export const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A payload the decoders cannot make sense of: too short, or a length that overruns. */
export class DecodeError extends Error {
  constructor(
    /** What was being decoded, e.g. `struct tcp_info` or `INET_DIAG_INFO`. */
    readonly what: string,
    /** Byte offset in the buffer where the problem is. */
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`cannot decode ${what} at byte ${offset}: ${reason}`);
    this.name = 'DecodeError';
  }
}

/** Throws a {@link DecodeError} unless `have >= need`. */
export function needBytes(what: string, offset: number, have: number, need: number): void {
  if (have < need) throw new DecodeError(what, offset, `needs ${need} bytes, got ${have}`);
}

/** How deep attribute nests may go; real messages nest a few levels, hostile ones without end. */
export const MAX_NEST_DEPTH = 32;
let nestDepth = 0;

/**
 * Runs the decoder of a nested attribute set, refusing to go deeper than
 * {@link MAX_NEST_DEPTH} levels, so that bytes nesting a set in itself without end
 * give a DecodeError instead of exhausting the stack.
 */
export function decodeNested<T>(what: string, offset: number, decode: () => T): T {
  if (nestDepth >= MAX_NEST_DEPTH) throw new DecodeError(what, offset, `attributes nested more than ${MAX_NEST_DEPTH} levels deep`);
  nestDepth++;
  try {
    return decode();
  } finally {
    nestDepth--;
  }
}

/** An attribute whose type the schema does not know, kept as it came. */
export interface UnknownAttribute {
  type: number;
  bytes: Uint8Array;
}

/** A copy of `length` bytes (the receive buffer is reused, so views would change). */
export function copyBytes(view: DataView, offset: number, length: number): Uint8Array {
  return new Uint8Array(view.buffer.slice(view.byteOffset + offset, view.byteOffset + offset + length));
}

/** Writes up to `length` bytes of `bytes` at `offset`; the rest stays as it was (zero). */
export function writeBytes(view: DataView, offset: number, bytes: Uint8Array, length: number): void {
  new Uint8Array(view.buffer, view.byteOffset + offset, length).set(bytes.subarray(0, length));
}

const utf8 = new TextDecoder();
const utf8Encoder = new TextEncoder();

/** Text up to the first NUL byte (or the end). */
export function readString(view: DataView, offset: number, length: number): string {
  let end = 0;
  let ascii = true;
  while (end < length) {
    const b = view.getUint8(offset + end);
    if (b === 0) break;
    if (b > 0x7f) ascii = false;
    end++;
  }
  if (ascii && end <= 32) {
    let s = '';
    for (let i = 0; i < end; i++) s += String.fromCharCode(view.getUint8(offset + i));
    return s;
  }
  return utf8.decode(new Uint8Array(view.buffer, view.byteOffset + offset, end));
}

/** A string as NUL-terminated UTF-8 bytes. */
export function encodeString(text: string): Uint8Array {
  const bytes = utf8Encoder.encode(text);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/** Host-order integers filling `length` bytes (an attribute with `sub-type`), signed when `signed`. */
export function readArray(view: DataView, offset: number, length: number, size: 1 | 2 | 4, signed = false): number[] {
  const out: number[] = [];
  for (let i = 0; i + size <= length; i += size) {
    const p = offset + i;
    if (signed) out.push(size === 1 ? view.getInt8(p) : size === 2 ? view.getInt16(p, LE) : view.getInt32(p, LE));
    else out.push(size === 1 ? view.getUint8(p) : size === 2 ? view.getUint16(p, LE) : view.getUint32(p, LE));
  }
  return out;
}

/** A 64-bit value stored as two host-order 32-bit words, low word first. */
export function readCookie(view: DataView, offset: number): bigint {
  if (LE) return view.getBigUint64(offset, true);
  return (BigInt(view.getUint32(offset + 4, false)) << 32n) | BigInt(view.getUint32(offset, false));
}

/** Writes a 64-bit value as two host-order 32-bit words, low word first. */
export function writeCookie(view: DataView, offset: number, value: bigint): void {
  view.setUint32(offset, Number(value & 0xffffffffn), LE);
  view.setUint32(offset + 4, Number((value >> 32n) & 0xffffffffn), LE);
}

/**
 * Address text of a network-order address: `bytes` is 4 (IPv4), 16 (IPv6) or 0 when
 * the family is neither, in which case the 16 bytes are shown as hex.
 */
export function formatInetAddress(view: DataView, offset: number, bytes: number): string {
  if (bytes === 4) return ipv4Text(view.getUint32(offset, false));
  if (bytes === 16) return formatIPv6(view, offset);
  let s = '';
  for (let i = 0; i < 16; i++) s += view.getUint8(offset + i).toString(16).padStart(2, '0');
  return s;
}

/** Texts of recently seen IPv4 addresses: a dump repeats few local addresses many times. */
const ipv4Texts = new Map<number, string>();
const IPV4_TEXTS_MAX = 4096;

function ipv4Text(address: number): string {
  let text = ipv4Texts.get(address);
  if (text === undefined) {
    text = `${address >>> 24}.${(address >>> 16) & 0xff}.${(address >>> 8) & 0xff}.${address & 0xff}`;
    if (ipv4Texts.size >= IPV4_TEXTS_MAX) ipv4Texts.clear();
    ipv4Texts.set(address, text);
  }
  return text;
}

/** IPv6 text as inet_ntop(3) writes it (RFC 5952, with dotted IPv4 for mapped and compatible addresses). */
function formatIPv6(view: DataView, offset: number): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push(view.getUint16(offset + 2 * i, false));
  // Longest run of two or more zero words, the first when tied.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible) get dotted tails, as glibc does.
  const dotted = best === 0 && ((bestLen === 5 && w[5] === 0xffff) || bestLen === 6);
  if (dotted) {
    const v4 = `${w[6]! >> 8}.${w[6]! & 0xff}.${w[7]! >> 8}.${w[7]! & 0xff}`;
    return bestLen === 5 ? `::ffff:${v4}` : `::${v4}`;
  }
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (i === best) {
      s += i === 0 ? '::' : ':';
      i += bestLen - 1;
      continue;
    }
    s += w[i]!.toString(16);
    if (i < 7) s += ':';
  }
  return s;
}

/** Parses IPv4 (`bytes` 4) or IPv6 (`bytes` 16) text into network-order bytes at `offset`. */
export function writeInetAddress(view: DataView, offset: number, text: string, bytes: number): void {
  const parsed = parseInetAddress(text);
  if (parsed === undefined || (bytes !== 0 && parsed.length !== bytes)) {
    throw new TypeError(`not an ${bytes === 4 ? 'IPv4' : bytes === 16 ? 'IPv6' : 'IP'} address: ${JSON.stringify(text)}`);
  }
  new Uint8Array(view.buffer, view.byteOffset + offset, parsed.length).set(parsed);
}

/** IPv4 or IPv6 text to network-order bytes (4 or 16), or undefined when it is neither. */
export function parseInetAddress(text: string): Uint8Array | undefined {
  const v4 = parseIPv4(text);
  if (v4) return v4;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const words = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    const pieces = part.split(':');
    for (let i = 0; i < pieces.length; i++) {
      const p = pieces[i]!;
      const tail = i === pieces.length - 1 ? parseIPv4(p) : undefined;
      if (tail) out.push((tail[0]! << 8) | tail[1]!, (tail[2]! << 8) | tail[3]!);
      else if (/^[0-9a-fA-F]{1,4}$/.test(p)) out.push(parseInt(p, 16));
      else return undefined;
    }
    return out;
  };
  const head = words(halves[0]!);
  const tail = halves.length === 2 ? words(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const fill = 8 - head.length - tail.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return undefined;
  const all = [...head, ...new Array<number>(fill).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((word, i) => {
    out[2 * i] = word >> 8;
    out[2 * i + 1] = word & 0xff;
  });
  return out;
}

function parseIPv4(text: string): Uint8Array | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const bytes = m.slice(1).map(Number);
  return bytes.every((b) => b <= 255) ? Uint8Array.from(bytes) : undefined;
}

/** Host-order 64-bit integers filling `length` bytes, as bigints, signed when `signed`. */
export function readBigArray(view: DataView, offset: number, length: number, signed = false): bigint[] {
  const out: bigint[] = [];
  for (let i = 0; i + 8 <= length; i += 8) out.push(signed ? view.getBigInt64(offset + i, LE) : view.getBigUint64(offset + i, LE));
  return out;
}
