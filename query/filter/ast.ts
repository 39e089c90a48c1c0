/**
 * The AST of ss's socket filter language, and builders for it.
 *
 * Leaf kinds follow what inet_diag bytecode can test: port comparisons (`port`) are kept
 * apart from address conditions (`host`, an address prefix and/or an exact port), so a
 * compiler can map them to INET_DIAG_BC_{S,D}_{GE,LE} and INET_DIAG_BC_{S,D}_COND.
 */
import { FilterSyntaxError } from './errors.js';
import { lookupService } from './system.js';
import {
  parseCgroup, parseDevice, parseHostSpec, portOp, ValueError, type ServiceResolver,
} from './values.js';

/** The ends of a socket a condition can look at. */
export const SIDES = ['src', 'dst'] as const;
/** Which end of the socket a condition looks at: `src` is local, `dst` is remote. */
export type Side = (typeof SIDES)[number];

/** The port comparisons. */
export const PORT_OPS = ['=', '!=', '<', '<=', '>', '>='] as const;
/** A port comparison. */
export type PortOp = (typeof PORT_OPS)[number];

/** Every spelling ss accepts for a {@link PortOp}. */
export type PortOpSpelling =
  | PortOp | '==' | 'eq' | 'ne' | 'neq' | 'lt' | 'le' | 'leq' | 'gt' | 'ge' | 'geq';

/** An address prefix, normalized: the bits after `prefixLength` are zero. */
export interface HostPrefix {
  readonly family: 'inet' | 'inet6';
  /** Network-order bytes: 4 for `inet`, 16 for `inet6` (v4-mapped addresses stay `inet6`). */
  readonly bytes: readonly number[];
  /** 0-32 for `inet`, 0-128 for `inet6`. */
  readonly prefixLength: number;
}

/** `sport OP PORT` / `dport OP PORT`. */
export interface PortNode {
  readonly kind: 'port';
  readonly side: Side;
  readonly op: PortOp;
  readonly port: number;
}

/** `src SPEC` / `dst SPEC`: an address prefix and/or an exact port; `null` is a wildcard. */
export interface HostNode {
  readonly kind: 'host';
  readonly side: Side;
  readonly prefix: HostPrefix | null;
  readonly port: number | null;
}

/** `dev NAME` / `dev INDEX`: the interface the socket is bound to. */
export interface DevNode {
  readonly kind: 'dev';
  readonly dev: string | number;
}

/** `fwmark VALUE/MASK`: matches when `(mark & mask) === value`. */
export interface MarkNode {
  readonly kind: 'mark';
  readonly value: number;
  readonly mask: number;
}

/** `cgroup PATH` or `cgroup ID`: the socket's cgroup v2. */
export interface CgroupNode {
  readonly kind: 'cgroup';
  readonly cgroup: string | bigint;
}

/**
 * `src unix:PATTERN` / `dst unix:PATTERN`: a UNIX socket's name (`src`) or its peer's name
 * (`dst`) matches an fnmatch(3) pattern, as ss's `ss -x src '/tmp/.X11-unix/*'`. Names are
 * matched as sockdiag prints them (`@` for an abstract name's NULs; `''` when unnamed). No
 * INET socket matches one.
 */
export interface UnixNameNode {
  readonly kind: 'unix';
  readonly side: Side;
  readonly pattern: string;
}

/** `autobound`: the local port was chosen by the kernel, not bound explicitly. */
export interface AutoboundNode {
  readonly kind: 'autobound';
}

/** All of `args` (two or more). */
export interface AndNode {
  readonly kind: 'and';
  readonly args: readonly FilterNode[];
}

/** Any of `args` (two or more). */
export interface OrNode {
  readonly kind: 'or';
  readonly args: readonly FilterNode[];
}

/** The negation of `arg`. */
export interface NotNode {
  readonly kind: 'not';
  readonly arg: FilterNode;
}

/** A socket filter expression. */
export type FilterNode =
  | AndNode | OrNode | NotNode
  | PortNode | HostNode | DevNode | MarkNode | CgroupNode | AutoboundNode | UnixNameNode;

/**
 * The deepest AST {@link parseFilter} builds: and/or/not nodes nested on one path
 * (leaves count 0). Deeper input is a {@link FilterSyntaxError}, so consumers may recurse.
 */
export const MAX_FILTER_DEPTH = 1000;

/** Options for builders that read address or port text. */
export interface BuildOptions {
  /** Resolves service names such as `https`; defaults to /etc/services. */
  readonly services?: ServiceResolver;
}

/** All of the given conditions. */
export function and(first: FilterNode, second: FilterNode, ...rest: FilterNode[]): AndNode {
  return { kind: 'and', args: [first, second, ...rest] };
}

/** Any of the given conditions. */
export function or(first: FilterNode, second: FilterNode, ...rest: FilterNode[]): OrNode {
  return { kind: 'or', args: [first, second, ...rest] };
}

/** The negation of a condition. */
export function not(arg: FilterNode): NotNode {
  return { kind: 'not', arg };
}

function port(side: Side, op: PortOpSpelling, value: number): PortNode {
  const normalized = portOp(op);
  if (!normalized) throw new RangeError(`unknown port operator '${op}'`);
  if (typeof value !== 'number') throw new TypeError(`a port is a number, not ${typeof value}`);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new RangeError(`port ${value} is out of range (0-65535)`);
  }
  return { kind: 'port', side, op: normalized, port: value };
}

/** Compares the local port: `sport('>=', 1024)`. @throws RangeError for a bad port or operator. */
export function sport(op: PortOpSpelling, value: number): PortNode {
  return port('src', op, value);
}

/** Compares the remote port: `dport('=', 443)`. @throws RangeError for a bad port or operator. */
export function dport(op: PortOpSpelling, value: number): PortNode {
  return port('dst', op, value);
}

/** Runs a value parser over builder input, reporting problems as a FilterSyntaxError. */
function fromText<T>(text: string, parse: (text: string) => T): T {
  try {
    return parse(text);
  } catch (error) {
    if (error instanceof ValueError) throw new FilterSyntaxError(error.message, error.offset + 1, text);
    throw error;
  }
}

function host(side: Side, spec: string, options: BuildOptions): HostNode {
  if (typeof spec !== 'string') throw new TypeError(`${side}() takes an address as text, not ${typeof spec}`);
  const { prefix, port } = fromText(spec, (text) => parseHostSpec(text, options.services ?? lookupService));
  return { kind: 'host', side, prefix, port };
}

/**
 * Matches the local address and/or port, written as after ss's `src`:
 * `src('10.0.0.0/8')`, `src('[::1]:443')`, `src('*:22')`.
 * @throws FilterSyntaxError if `spec` is not valid (its column indexes `spec`).
 */
export function src(spec: string, options: BuildOptions = {}): HostNode {
  return host('src', spec, options);
}

/** Matches the remote address and/or port; see {@link src}. */
export function dst(spec: string, options: BuildOptions = {}): HostNode {
  return host('dst', spec, options);
}

/**
 * Matches the interface the socket is bound to (index 0: none). A string is read as in
 * filter text, so `dev('3')` is index 3. @throws FilterSyntaxError for an invalid name.
 */
export function dev(device: string | number): DevNode {
  if (typeof device === 'number' && (!Number.isInteger(device) || device < 0 || device > 0xffffffff)) {
    throw new RangeError(`interface index ${device} is out of range`);
  }
  return { kind: 'dev', dev: typeof device === 'number' ? device : fromText(device, parseDevice) };
}

/** Matches `(mark & mask) === value`. @throws RangeError unless both are 32-bit unsigned. */
export function mark(value: number, mask = 0xffffffff): MarkNode {
  for (const n of [value, mask]) {
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`${n} is not a 32-bit mark`);
  }
  return { kind: 'mark', value, mask };
}

/**
 * Matches the socket's cgroup v2, by path (`'/system.slice/sshd.service'`) or id (bigint).
 * A string is read as in filter text, so an all-digit string is an id.
 */
export function cgroup(pathOrId: string | bigint): CgroupNode {
  if (typeof pathOrId === 'bigint' && (pathOrId < 0n || pathOrId > 0xffff_ffff_ffff_ffffn)) {
    throw new RangeError(`cgroup id ${pathOrId} is out of range`);
  }
  return { kind: 'cgroup', cgroup: typeof pathOrId === 'bigint' ? pathOrId : fromText(pathOrId, parseCgroup) };
}

/** Matches UNIX sockets whose name matches an fnmatch(3) pattern: `unixSrc('/run/*.sock')`. */
export function unixSrc(pattern: string): UnixNameNode {
  return unixName('src', pattern);
}

/** Matches UNIX sockets whose peer's name matches an fnmatch(3) pattern. */
export function unixDst(pattern: string): UnixNameNode {
  return unixName('dst', pattern);
}

function unixName(side: Side, pattern: string): UnixNameNode {
  if (typeof pattern !== 'string') throw new TypeError(`a UNIX name pattern is text, not ${typeof pattern}`);
  return { kind: 'unix', side, pattern };
}

/** Matches sockets whose local port the kernel picked (see `matches` for the user-space approximation). */
export function autobound(): AutoboundNode {
  return { kind: 'autobound' };
}
