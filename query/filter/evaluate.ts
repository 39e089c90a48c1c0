/**
 * Evaluating a filter in user space, with the semantics of the kernel's inet_diag bytecode
 * (net/ipv4/inet_diag.c, inet_diag_bc_run) as ss compiles filters to it.
 */
import { isV4Mapped, parseIpv4, parseIpv6, prefixMatches } from './address.js';
import type { FilterNode, HostNode, PortOp } from './ast.js';
import { globMatcher } from './glob.js';
import { localPortRange, lookupCgroupId, lookupIfindex } from './system.js';
import { checkFilter } from './check.js';

/** The socket fields a filter can test. */
export interface FilterSocket {
  /**
   * `inet` and `inet6` sockets can match address conditions, `unix` ones name patterns;
   * other families match neither.
   */
  readonly family: 'inet' | 'inet6' | 'unix' | (string & {});
  /**
   * Local address in the family's own text form: `127.0.0.1`, `::1`, `::ffff:10.0.0.1`;
   * for a UNIX socket its name as printed (`/run/x.sock`, `@abstract`), `''` when unnamed.
   */
  readonly src: string;
  /** Remote address, as `src`; for a UNIX socket its peer's name, `''` when unknown. */
  readonly dst: string;
  /** Local port; for a UNIX socket its inode, as ss compares it. */
  readonly sport: number;
  /** Remote port; for a UNIX socket its peer's inode (0 if none). */
  readonly dport: number;
  /** The interface the socket is bound to, 0 if none. */
  readonly ifindex: number;
  /** Absent when not reported (the kernel reports it only to CAP_NET_ADMIN). */
  readonly mark?: number;
  /** Absent when not reported (INET_DIAG_CGROUP_ID, Linux 5.10+). */
  readonly cgroupId?: bigint;
}

/** Name look-ups for conditions that name things; each defaults to this machine. */
export interface MatchOptions {
  /** Interface name to index; default /sys/class/net/NAME/ifindex. */
  readonly ifindex?: (name: string) => number | undefined;
  /** cgroup v2 path to id; default: the directory's inode on the cgroup2 mount. */
  readonly cgroupId?: (path: string) => bigint | undefined;
  /** Inclusive range `autobound` tests; default /proc/sys/net/ipv4/ip_local_port_range. */
  readonly ephemeralPorts?: readonly [number, number];
}

interface Context {
  readonly ifindex: (name: string) => number | undefined;
  readonly cgroupId: (path: string) => bigint | undefined;
  readonly ephemeralPorts: () => readonly [number, number];
  readonly glob: (pattern: string) => (text: string) => boolean;
}

function memoize<K, V>(lookup: (key: K) => V): (key: K) => V {
  const cache = new Map<K, V>();
  return (key) => {
    if (!cache.has(key)) cache.set(key, lookup(key));
    return cache.get(key) as V;
  };
}

/**
 * Prepares `node` for repeated evaluation: names (interfaces, cgroup paths) are looked up
 * once, on first use, and remembered.
 *
 * Semantics, following inet_diag_bc_run():
 * - `port`: compares the local (`sport`) or remote (`dport`) port.
 * - `host`: the port, if given, must equal; a wildcard address matches any family. An
 *   IPv4 prefix matches IPv4 sockets and v4-mapped (`::ffff:a.b.c.d`) addresses of IPv6
 *   sockets; an IPv6 prefix (v4-mapped ones included) matches only IPv6 sockets. So
 *   `src 0.0.0.0/0` matches IPv4 and v4-mapped sockets, not other IPv6 ones.
 * - `dev`: the socket's bound interface index; a name that does not resolve matches nothing.
 * - `fwmark`: `(mark & mask) === value`. `cgroup`: equal ids; an unresolved path matches nothing.
 * - A socket field the record lacks (`mark`, `cgroupId`, or an address that does not parse
 *   in its family) makes that condition false, so `not fwmark 1` matches such sockets.
 * - `unix`: the UNIX socket's name (`src`) or its peer's name (`dst`) against an
 *   fnmatch(3) pattern with no flags, as ss does; false for every other family.
 * - `autobound` on a UNIX socket: unnamed, or an autobound abstract name (`@` and five
 *   hex digits), as ss tests it.
 * - `autobound`: the kernel tests SOCK_BINDPORT_LOCK, which sock_diag does not report;
 *   like ss's /proc fallback, this approximates it as "local port in the ephemeral range".
 */
export function createMatcher(node: FilterNode, options: MatchOptions = {}): (socket: FilterSocket) => boolean {
  checkFilter(node);
  let range = options.ephemeralPorts;
  const context: Context = {
    ifindex: memoize(options.ifindex ?? lookupIfindex),
    cgroupId: memoize(options.cgroupId ?? lookupCgroupId),
    ephemeralPorts: () => (range ??= localPortRange()),
    glob: memoize(globMatcher),
  };
  return (socket) => evaluate(node, socket, context);
}

/** Does `socket` pass `node`? See {@link createMatcher} for the semantics. */
export function matches(node: FilterNode, socket: FilterSocket, options: MatchOptions = {}): boolean {
  return createMatcher(node, options)(socket);
}

function comparePort(value: number, op: PortOp, port: number): boolean {
  switch (op) {
    case '=': return value === port;
    case '!=': return value !== port;
    case '<': return value < port;
    case '<=': return value <= port;
    case '>': return value > port;
    case '>=': return value >= port;
  }
}

/** The socket's address bytes, or null if the text is not an address of its family. */
function socketAddress(family: string, text: string): number[] | null {
  const address = text.replace(/%.*$/, '');
  if (family === 'inet') return parseIpv4(address);
  return family === 'inet6' ? parseIpv6(address) : null;
}

function hostMatches(node: HostNode, socket: FilterSocket): boolean {
  if (node.port !== null && node.port !== (node.side === 'src' ? socket.sport : socket.dport)) return false;
  const { prefix } = node;
  if (!prefix) return true;
  const bytes = socketAddress(socket.family, node.side === 'src' ? socket.src : socket.dst);
  if (!bytes) return false;
  if (prefix.family === socket.family) return prefixMatches(bytes, prefix.bytes, prefix.prefixLength);
  return prefix.family === 'inet' && isV4Mapped(bytes) && prefixMatches(bytes.slice(12), prefix.bytes, prefix.prefixLength);
}

function evaluate(node: FilterNode, socket: FilterSocket, context: Context): boolean {
  switch (node.kind) {
    case 'and':
      return node.args.every((arg) => evaluate(arg, socket, context));
    case 'or':
      return node.args.some((arg) => evaluate(arg, socket, context));
    case 'not':
      return !evaluate(node.arg, socket, context);
    case 'unix':
      return socket.family === 'unix' && context.glob(node.pattern)(node.side === 'src' ? socket.src : socket.dst);
    case 'port':
      return comparePort(node.side === 'src' ? socket.sport : socket.dport, node.op, node.port);
    case 'host':
      return hostMatches(node, socket);
    case 'dev':
      return socket.ifindex === (typeof node.dev === 'number' ? node.dev : context.ifindex(node.dev));
    case 'mark':
      return socket.mark !== undefined && ((socket.mark & node.mask) >>> 0) === node.value;
    case 'cgroup': {
      const id = typeof node.cgroup === 'bigint' ? node.cgroup : context.cgroupId(node.cgroup);
      return id !== undefined && socket.cgroupId === id;
    }
    case 'autobound': {
      // A UNIX socket the kernel autobound has an abstract name of five hex digits (ss's test).
      if (socket.family === 'unix') return socket.src === '' || /^@[0-9a-f]{5}$/.test(socket.src);
      const [low, high] = context.ephemeralPorts();
      return socket.sport >= low && socket.sport <= high;
    }
  }
}
