/**
 * The records the query API yields, and the options it takes. Records are the
 * generated structs flattened, with names for enum values and every attribute the
 * kernel sent.
 */
import type { IdiagTimerName, InetDiagAttrs, InetDiagExtName, TcpStateName } from '../generated/inet_diag.js';
import type { SocketTypeName } from '../generated/socket.js';
import type { UdiagShowName, UnixDiagAttrs } from '../generated/unix_diag.js';
import type { NetnsSpec } from '../runtime/netns.js';
import type { FilterNode } from './filter/ast.js';

/** IP protocols that inet_diag can report. */
/** The types of UNIX sockets a dump can keep. */
export const UNIX_TYPES = ['stream', 'dgram', 'seqpacket'] as const;
export type UnixType = (typeof UNIX_TYPES)[number];

/** The protocols of INET dumps, by the names of their IPPROTO_* values. */
export const INET_PROTOCOLS = ['tcp', 'udp', 'udplite', 'raw', 'mptcp', 'sctp'] as const;
export type InetProtocol = (typeof INET_PROTOCOLS)[number];

/** A socket state name; a value the schema does not know shows as its number. */
export type StateName = TcpStateName | `state-${number}`;

/** An INET (IPv4/IPv6) socket: `struct inet_diag_msg` and every attribute that came with it. */
export interface InetSocket extends InetDiagAttrs {
  /** `inet` (IPv4) or `inet6` (IPv6). */
  family: 'inet' | 'inet6';
  state: StateName;
  /** The pending TCP timer. */
  timer: IdiagTimerName | `timer-${number}`;
  /** Retransmissions or probes sent for the pending timer. */
  retrans: number;
  /** Local address as text (`127.0.0.1`, `::1`). */
  src: string;
  /** Remote address as text. */
  dst: string;
  sport: number;
  dport: number;
  /** Interface the socket is bound to, 0 for none. */
  ifindex: number;
  /** The kernel's unique id of the socket. */
  cookie: bigint;
  /** Milliseconds until the pending timer fires. */
  expires: number;
  /** Receive queue bytes, or pending connections of a listener. */
  rqueue: number;
  /** Send queue bytes, or the backlog of a listener. */
  wqueue: number;
  uid: number;
  inode: number;
}

/** A UNIX domain socket: `struct unix_diag_msg` and every attribute that came with it. */
export interface UnixSocket extends UnixDiagAttrs {
  family: 'unix';
  /** `stream`, `dgram` or `seqpacket`. */
  type: SocketTypeName | `type-${number}`;
  state: StateName;
  inode: number;
  cookie: bigint;
  /**
   * The bound name for display: a path, `@name` for an abstract name (which starts
   * with a NUL byte), undefined for an unbound socket. Control characters and bytes
   * that are not UTF-8 are escaped as `\xNN`. The raw bytes are in `name`.
   */
  path?: string;
}

/** Options common to every query. */
export interface QueryOptions {
  /** Ask inside this network namespace. */
  netns?: NetnsSpec;
}

/** Options of every dump. */
export interface DumpOptions extends QueryOptions {
  /**
   * How many times to run the dump again when the kernel flags it as interrupted
   * (NLM_F_DUMP_INTR: sockets changed while it ran). Repeated sockets are dropped by
   * cookie. Default 0: report the interruption in the dump's status instead.
   */
  retries?: number;
}

/** Options of an INET dump. */
export interface InetQuery extends DumpOptions {
  /** `inet`, `inet6` or `all` (both, one request each). Default `all`. */
  family?: 'inet' | 'inet6' | 'all';
  /** Default `tcp`. */
  protocol?: InetProtocol;
  /**
   * States to report (default all). UDP sockets that are not connected are in state
   * `close`. All includes `bound-inactive` (Linux 6.8+: bound, neither listening nor
   * connected), for which the kernel walks its whole bind table: about 20 ms more per
   * dump of 100,000 TCP sockets (AMD EPYC, 6.18). Naming the states wanted, as the
   * command does, skips that walk.
   */
  states?: readonly TcpStateName[];
  /** Extensions to ask for: `info` (tcp_info), `meminfo`, `skmeminfo`, `cong`, `vegasinfo` (congestion-control info), `tos`, `tclass`, `shutdown`. */
  ext?: readonly InetDiagExtName[];
  /** Only sockets with this local port (matched by the kernel). */
  sport?: number;
  /** Only sockets with this remote port (matched by the kernel). */
  dport?: number;
  /**
   * Only sockets matching this filter (an AST from `parseFilter` or the builders).
   * The kernel tests what its bytecode can express; the rest is tested here, so the
   * result is exact either way. `SockDiag#status.filter` says which part ran where.
   */
  filter?: FilterNode;
  /** A raw INET_DIAG_REQ_BYTECODE program for the kernel to filter with (instead of `filter`). */
  bytecode?: Uint8Array;
}

/** The socket to look up, by its 4-tuple (and cookie, when known). */
export interface InetLookup extends QueryOptions {
  family: 'inet' | 'inet6';
  protocol?: InetProtocol;
  src: string;
  sport: number;
  dst: string;
  dport: number;
  ifindex?: number;
  cookie?: bigint;
  ext?: readonly InetDiagExtName[];
}

/** Options of a UNIX dump. */
export interface UnixQuery extends DumpOptions {
  states?: readonly TcpStateName[];
  /** What to report besides the fixed header (default: all of it). */
  show?: readonly UdiagShowName[];
  /** Only sockets of this type (filtered here; the kernel has no such filter). */
  type?: UnixType;
}
