/** IP address text <-> bytes, and the prefix comparison the kernel's inet_diag uses. */

const DECIMAL_OCTET = /^(?:0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/**
 * Parses dotted-decimal IPv4. With `allowShort`, one to three parts are accepted and the
 * missing trailing parts are zero, as iproute2 does (`10/8` is `10.0.0.0/8`).
 * Octets are decimal only: iproute2 would read `010` as octal, which is rejected here.
 */
export function parseIpv4(text: string, allowShort = false): number[] | null {
  const parts = text.split('.');
  if (parts.length > 4 || (!allowShort && parts.length !== 4)) return null;
  const bytes = [0, 0, 0, 0];
  for (const [i, part] of parts.entries()) {
    if (!DECIMAL_OCTET.test(part)) return null;
    const value = Number(part);
    if (value > 255) return null;
    bytes[i] = value;
  }
  return bytes;
}

/** Parses IPv6 text as inet_pton(AF_INET6) does, including a dotted IPv4 tail. */
export function parseIpv6(text: string): number[] | null {
  const gap = text.indexOf('::');
  if (gap !== -1 && text.includes('::', gap + 1)) return null;
  const head = words(gap === -1 ? text : text.slice(0, gap), gap === -1);
  const tail = gap === -1 ? [] : words(text.slice(gap + 2), true);
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (gap === -1 ? missing !== 0 : missing < 1) return null;
  return [...head, ...new Array<number>(missing).fill(0), ...tail].flatMap((w) => [w >> 8, w & 0xff]);
}

/** Colon-separated 16-bit groups; the last may be dotted IPv4 (two groups). */
function words(text: string, mayEndInIpv4: boolean): number[] | null {
  if (text === '') return [];
  const groups = text.split(':');
  const out: number[] = [];
  for (const [i, group] of groups.entries()) {
    if (mayEndInIpv4 && i === groups.length - 1 && group.includes('.')) {
      const v4 = parseIpv4(group);
      if (!v4) return null;
      const [a = 0, b = 0, c = 0, d = 0] = v4;
      out.push((a << 8) | b, (c << 8) | d);
    } else if (HEX_GROUP.test(group)) {
      out.push(parseInt(group, 16));
    } else {
      return null;
    }
  }
  return out;
}

/** True for `::ffff:a.b.c.d`, an IPv4 address carried by an IPv6 socket. */
export function isV4Mapped(bytes: readonly number[]): boolean {
  return bytes.length === 16 && bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
}

/** Formats address bytes: dotted IPv4, or RFC 5952 IPv6 (`::ffff:a.b.c.d` for mapped). */
export function formatIp(bytes: readonly number[]): string {
  if (bytes.length === 4) return bytes.join('.');
  if (isV4Mapped(bytes)) return `::ffff:${bytes.slice(12).join('.')}`;
  const words = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0));
  let best = { start: -1, length: 1 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > best.length) best = { start: i, length: j - i };
    i = j === i ? i + 1 : j;
  }
  const hex = (ws: number[]): string => ws.map((w) => w.toString(16)).join(':');
  if (best.start === -1) return hex(words);
  return `${hex(words.slice(0, best.start))}::${hex(words.slice(best.start + best.length))}`;
}

/** Zeroes every bit after the first `prefixLength` bits. */
export function maskBytes(bytes: readonly number[], prefixLength: number): number[] {
  return bytes.map((byte, i) => {
    const keep = Math.min(8, Math.max(0, prefixLength - 8 * i));
    return byte & ((0xff << (8 - keep)) & 0xff);
  });
}

/** The kernel's bitstring_match(): do the first `bits` bits of `a` and `b` agree? */
export function prefixMatches(a: readonly number[], b: readonly number[], bits: number): boolean {
  for (let i = 0; 8 * i < bits; i++) {
    const keep = Math.min(8, bits - 8 * i);
    const mask = (0xff << (8 - keep)) & 0xff;
    if ((((a[i] ?? 0) ^ (b[i] ?? 0)) & mask) !== 0) return false;
  }
  return true;
}
