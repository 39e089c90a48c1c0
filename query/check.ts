/**
 * Checks of the options callers pass, where the types cannot reach (JavaScript, data
 * read from elsewhere): a wrong value gets a TypeError or RangeError that names the
 * option, before anything is sent, instead of a dump that quietly matches nothing.
 */
import { InetDiagExt, TcpState } from '../generated/inet_diag.js';
import { UdiagShow } from '../generated/unix_diag.js';
import { integer, namesOf, oneOf } from './check-values.js';
import { describeValue as show } from './display.js';
import { FAMILIES } from './families.js';
import { checkFilter } from './filter/check.js';
import { INET_PROTOCOLS, UNIX_TYPES, type DumpOptions, type InetLookup, type InetQuery, type UnixQuery } from './types.js';
import type { WatchOptions } from './watch.js';

/** Options of a socket: its receive buffer and whether a receiver may take its dumps (the namespace is checked where it is entered). */
export function checkOpenOptions(o: { rcvbuf?: unknown; readerThread?: unknown }): void {
  integer('rcvbuf', o.rcvbuf, 1, 0x7fffffff);
  if (o.readerThread !== undefined && typeof o.readerThread !== 'boolean') throw new TypeError(`readerThread: true or false, not ${show(o.readerThread)}`);
}

/** Options of a watch for destroy events. */
export function checkWatchOptions(o: WatchOptions): void {
  namesOf('protocols', o.protocols, ['tcp', 'udp']);
  namesOf('families', o.families, ['inet', 'inet6']);
  integer('rcvbuf', o.rcvbuf, 1, 0x7fffffff);
  if (o.onOverflow !== undefined && typeof o.onOverflow !== 'function') throw new TypeError(`onOverflow: a function, not ${show(o.onOverflow)}`);
}

/** Options every dump takes. */
export function checkDumpOptions(q: DumpOptions): void {
  integer('retries', q.retries, 0, Number.MAX_SAFE_INTEGER);
}

/** An INET dump's options. */
export function checkInetQuery(q: InetQuery): void {
  checkDumpOptions(q);
  oneOf('family', q.family, ['inet', 'inet6', 'all']);
  oneOf('protocol', q.protocol, INET_PROTOCOLS);
  namesOf('states', q.states, Object.keys(TcpState));
  namesOf('ext', q.ext, Object.keys(InetDiagExt));
  integer('sport', q.sport, 0, 0xffff);
  integer('dport', q.dport, 0, 0xffff);
  if (q.filter !== undefined) checkFilter(q.filter);
  if (q.bytecode !== undefined && !(q.bytecode instanceof Uint8Array)) throw new TypeError(`bytecode: a Uint8Array, not ${show(q.bytecode)}`);
}

/** The 4-tuple (and the rest) of an INET lookup. */
export function checkInetLookup(q: InetLookup): void {
  oneOf('family', q.family, ['inet', 'inet6'], false);
  oneOf('protocol', q.protocol, INET_PROTOCOLS);
  for (const end of ['src', 'dst'] as const) if (typeof q[end] !== 'string') throw new TypeError(`${end}: an address as text, not ${show(q[end])}`);
  integer('sport', q.sport, 0, 0xffff, false);
  integer('dport', q.dport, 0, 0xffff, false);
  integer('ifindex', q.ifindex, 0, 0xffffffff);
  if (q.cookie !== undefined && typeof q.cookie !== 'bigint') throw new TypeError(`cookie: a bigint, not ${show(q.cookie)}`);
  namesOf('ext', q.ext, Object.keys(InetDiagExt));
}

/** A UNIX dump's (or lookup's) options. */
export function checkUnixQuery(q: UnixQuery): void {
  checkDumpOptions(q);
  namesOf('states', q.states, Object.keys(TcpState));
  namesOf('show', q.show, Object.keys(UdiagShow));
  oneOf('type', q.type, UNIX_TYPES);
}

/** A UNIX lookup: the inode, the cookie and the query's options. */
export function checkUnixLookup(inode: unknown, cookie: unknown, q: UnixQuery): void {
  integer('inode', inode, 0, 0xffffffff, false);
  if (cookie !== undefined && typeof cookie !== 'bigint') throw new TypeError(`cookie: a bigint, not ${show(cookie)}`);
  checkUnixQuery(q);
}

/** The family of {@link SockDiag.sockets}. */
export function checkFamily(family: unknown): void {
  oneOf('family', family, Object.keys(FAMILIES), false);
}
