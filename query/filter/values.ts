/**
 * The words of ss's filter lexer (misc/ssfilter.y) and parsers for the value tokens that
 * follow a keyword: ports, host specs, marks, devices and cgroups.
 */
import { maskBytes, parseIpv4, parseIpv6 } from './address.js';
import type { HostPrefix, PortOp } from './ast.js';
import { quote } from './errors.js';

/** Maps a service name (as in /etc/services) to its port, or `undefined` if unknown. */
export type ServiceResolver = (name: string) => number | undefined;

/** A keyword token, by meaning rather than spelling. */
export type Keyword =
  | 'not' | 'and' | 'or' | '(' | ')' | 'autobound'
  | 'src' | 'dst' | 'sport' | 'dport' | 'dev' | 'fwmark' | 'cgroup'
  | PortOp;

const OPERATORS: ReadonlyMap<string, PortOp> = new Map<string, PortOp>([
  ['=', '='], ['==', '='], ['eq', '='],
  ['!=', '!='], ['ne', '!='], ['neq', '!='],
  ['<', '<'], ['lt', '<'],
  ['<=', '<='], ['le', '<='], ['leq', '<='],
  ['>', '>'], ['gt', '>'],
  ['>=', '>='], ['ge', '>='], ['geq', '>='],
]);

const WORDS: ReadonlyMap<string, Keyword> = new Map<string, Keyword>([
  ['!', 'not'], ['not', 'not'],
  ['&', 'and'], ['&&', 'and'], ['and', 'and'],
  ['|', 'or'], ['||', 'or'], ['or', 'or'],
  ['(', '('], [')', ')'],
  ['src', 'src'], ['dst', 'dst'], ['sport', 'sport'], ['dport', 'dport'],
  ['dev', 'dev'], ['fwmark', 'fwmark'], ['cgroup', 'cgroup'], ['autobound', 'autobound'],
]);

/** The comparison an operator spelling stands for (`eq`, `==` and `=` are all `=`). */
export function portOp(spelling: string): PortOp | undefined {
  return OPERATORS.get(spelling);
}

/** The keyword a token is, if any. Like ss, this is case-sensitive and position-blind. */
export function keyword(text: string): Keyword | undefined {
  return OPERATORS.get(text) ?? WORDS.get(text);
}

/** A problem inside one value token; `offset` indexes the token's text. */
export class ValueError extends Error {
  readonly offset: number;
  constructor(message: string, offset = 0) {
    super(message);
    this.offset = offset;
  }
}

/** strtoul(text, 0) over the whole text: decimal, `0x` hex or `0`-prefixed octal. */
function parseCInteger(text: string): number | null {
  if (/^0[xX][0-9a-fA-F]+$/.test(text)) return parseInt(text.slice(2), 16);
  if (/^0[0-7]*$/.test(text)) return parseInt(text, 8);
  if (/^[1-9][0-9]*$/.test(text)) return Number(text);
  return null;
}

function parsePort(text: string, services: ServiceResolver, at: number): number {
  const number = parseCInteger(text);
  if (number !== null) {
    if (number > 65535) throw new ValueError(`port ${text} is out of range (0-65535)`, at);
    return number;
  }
  if (/^[0-9]/.test(text)) throw new ValueError(`invalid port number ${quote(text)}`, at);
  const port = services(text);
  if (port === undefined || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ValueError(`${quote(text)} is neither a port number nor a known service name`, at);
  }
  return port;
}

/** The port part after an address, or the whole `sport`/`dport` value: `22`, `:https`, `*`. */
function parsePortPart(text: string, services: ServiceResolver, at: number, required: boolean): number | null {
  const body = text.startsWith(':') ? text.slice(1) : text;
  const bodyAt = at + text.length - body.length;
  if (body === '*' || (body === '' && !required)) return null;
  if (body === '') throw new ValueError('expected a port number or service name', bodyAt);
  return parsePort(body, services, bodyAt);
}

/**
 * The value of `sport`/`dport`: `22`, `:22`, `:https`, `0x16`; `*` or `:*` (any port)
 * gives `null`. Numbers are read like C's strtoul(…, 0), as ss does, so `026` is octal.
 */
export function parsePortValue(text: string, services: ServiceResolver): number | null {
  rejectFamilyPrefix(text);
  return parsePortPart(text, services, 0, true);
}

/** ss's `unix:`, `inet6:` ... prefixes select socket tables, which a filter AST cannot express. */
function rejectFamilyPrefix(text: string): void {
  const family = /^(unix|link|netlink|vsock|inet6?):/.exec(text);
  if (family) throw new ValueError(`address family prefix '${family[1]}:' is not supported`);
}

/** An address condition: an optional prefix (`null` = any address) and port (`null` = any). */
export interface HostSpec {
  readonly prefix: HostPrefix | null;
  readonly port: number | null;
}

/**
 * The value of `src`/`dst`, read as ss's parse_hostcond() does: `*`, `*:22`, `:22`,
 * `10.0.0.0/8`, `10.1.2.3:80`, `[::1]`, `[::1]:443`, `[fe80::/10]:22`, `::1/128`.
 * Without brackets the last `:` after any `/` starts the port, so bare IPv6 needs brackets
 * or a prefix length. Host names are not resolved.
 */
export function parseHostSpec(text: string, services: ServiceResolver): HostSpec {
  rejectFamilyPrefix(text);
  let addr: string;
  let addrAt = 0;
  let rest: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close === -1) throw new ValueError("missing ']' after a bracketed address", text.length);
    [addr, addrAt, rest] = [text.slice(1, close), 1, text.slice(close + 1)];
  } else if (text.startsWith('*')) {
    [addr, rest] = ['', text.slice(1)];
  } else {
    const colon = text.lastIndexOf(':');
    const split = colon > text.indexOf('/') ? colon : text.length;
    [addr, rest] = [text.slice(0, split), text.slice(split)];
  }
  try {
    const prefix = parsePrefix(addr, addrAt);
    return { prefix, port: parsePortPart(rest, services, text.length - rest.length, false) };
  } catch (error) {
    if (error instanceof ValueError && !text.startsWith('[') && text.split(':').length > 2) {
      throw new ValueError('IPv6 addresses must be written in brackets, e.g. [::1] or [::1]:80');
    }
    throw error;
  }
}

function parsePrefix(text: string, at: number): HostPrefix | null {
  if (['', '*', 'any', 'all', 'default'].includes(text)) return null;
  const slash = text.indexOf('/');
  const ip = slash === -1 ? text : text.slice(0, slash);
  const inet6 = ip.includes(':');
  const bytes = inet6 ? parseIpv6(ip) : parseIpv4(ip, true);
  if (!bytes) throw new ValueError(`${quote(ip)} is not an IPv4 or IPv6 address`, at);
  const bits = bytes.length * 8;
  let prefixLength = bits;
  if (slash !== -1) {
    const length = text.slice(slash + 1);
    if (!/^[0-9]{1,3}$/.test(length) || Number(length) > bits) {
      throw new ValueError(`invalid prefix length ${quote(length)} (0-${bits})`, at + slash + 1);
    }
    prefixLength = Number(length);
  }
  return { family: inet6 ? 'inet6' : 'inet', bytes: maskBytes(bytes, prefixLength), prefixLength };
}

function parseU32(text: string, at: number, what: string): number {
  const value = parseCInteger(text);
  if (value === null || value > 0xffffffff) throw new ValueError(`invalid ${what} ${quote(text)}`, at);
  return value;
}

/** The value of `fwmark`: `value` or `value/mask`, 32-bit numbers (mask defaults to all ones). */
export function parseMark(text: string): { value: number; mask: number } {
  const slash = text.indexOf('/');
  if (slash === -1) return { value: parseU32(text, 0, 'mark'), mask: 0xffffffff };
  return { value: parseU32(text.slice(0, slash), 0, 'mark'), mask: parseU32(text.slice(slash + 1), slash + 1, 'mask') };
}

/** The value of `dev`: an interface index (a number, as strtoul reads it) or a name. */
export function parseDevice(text: string): string | number {
  const index = parseCInteger(text);
  if (index !== null) return parseU32(text, 0, 'interface index');
  if (text === '' || text === '.' || text === '..' || text.length > 15 || /[/:()\s]/.test(text) || keyword(text)) {
    throw new ValueError(`invalid interface name ${quote(text)}`);
  }
  return text;
}

/** The value of `cgroup`: a path, or (a sockdiag extension) a decimal cgroup id. */
export function parseCgroup(text: string): string | bigint {
  if (/^[0-9]+$/.test(text)) {
    const id = BigInt(text);
    if (id > 0xffff_ffff_ffff_ffffn) throw new ValueError(`cgroup id ${text} is out of range`);
    return id;
  }
  if (text === '' || keyword(text)) throw new ValueError(`invalid cgroup path ${quote(text)}`);
  return text;
}
