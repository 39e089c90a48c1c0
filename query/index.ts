/**
 * sockdiag: ask the Linux kernel about its sockets through NETLINK_SOCK_DIAG.
 *
 * ```ts
 * import { inet, unix } from 'sockdiag';
 * for (const s of inet({ protocol: 'tcp', states: ['listen'] })) console.log(s.src, s.sport);
 * ```
 *
 * The functions here open a socket per call; {@link SockDiag} keeps one open.
 */
import type { InetSocketView } from './inet-view.js';
import type { UnixSocketView } from './unix-view.js';
import { SockDiag, type DumpStatus } from './session.js';
import type { InetLookup, InetQuery, InetSocket, UnixQuery, UnixSocket } from './types.js';

/** Dumps INET sockets (TCP by default, IPv4 and IPv6). */
export function* inet(q: InetQuery = {}): Generator<InetSocket, DumpStatus> {
  using diag = SockDiag.open(q);
  return yield* diag.inet(q);
}

/** Dumps INET sockets as an async iterable that leaves the event loop free between receive buffers. */
export async function* inetAsync(q: InetQuery = {}): AsyncGenerator<InetSocket, DumpStatus> {
  using diag = SockDiag.open(q);
  return yield* diag.inetAsync(q);
}

/**
 * Dumps INET sockets as views that read each field from the receive buffer when it
 * is read: faster when only a few fields are read. Read a view inside the loop (see
 * {@link InetSocketView}).
 */
export function* inetViews(q: InetQuery = {}): Generator<InetSocketView, DumpStatus> {
  using diag = SockDiag.open(q);
  return yield* diag.inetViews(q);
}

/** {@link inetViews} as an async iterable that leaves the event loop free between receive buffers. */
export async function* inetViewsAsync(q: InetQuery = {}): AsyncGenerator<InetSocketView, DumpStatus> {
  using diag = SockDiag.open(q);
  return yield* diag.inetViewsAsync(q);
}

/** Looks up one INET socket by its 4-tuple; undefined when there is none. */
export function inetLookup(q: InetLookup): InetSocket | undefined {
  using diag = SockDiag.open(q);
  return diag.inetLookup(q);
}

/** Dumps UNIX sockets. */
export function* unix(q: UnixQuery = {}): Generator<UnixSocket, DumpStatus> {
  using diag = SockDiag.open(q);
  return yield* diag.unix(q);
}

/** Dumps UNIX sockets as an async iterable. */
export async function* unixAsync(q: UnixQuery = {}): AsyncGenerator<UnixSocket, DumpStatus> {
  using diag = SockDiag.open(q);
  return yield* diag.unixAsync(q);
}

/** Dumps UNIX sockets as views of the receive buffer (see {@link inetViews}). */
export function* unixViews(q: UnixQuery = {}): Generator<UnixSocketView, DumpStatus> {
  using diag = SockDiag.open(q);
  return yield* diag.unixViews(q);
}

/** {@link unixViews} as an async iterable that leaves the event loop free between receive buffers. */
export async function* unixViewsAsync(q: UnixQuery = {}): AsyncGenerator<UnixSocketView, DumpStatus> {
  using diag = SockDiag.open(q);
  return yield* diag.unixViewsAsync(q);
}

/** Looks up one UNIX socket by inode (and cookie); undefined when there is none. */
export function unixLookup(inode: number, cookie?: bigint, q: UnixQuery = {}): UnixSocket | undefined {
  using diag = SockDiag.open(q);
  return diag.unixLookup(inode, cookie, q);
}

export { NoDiagSupportError, SockDiag, type DumpStatus } from './session.js';
export type * from './families.js';
export { watch, type WatchOptions } from './watch.js';
export { DestroyUnsupportedError, type DestroyResult } from './destroy.js';
export * from './filter/index.js';
export type * from './types.js';
export { unixDisplayName } from './unix.js';
export { DecodeError } from '../runtime/codec.js';
export { InetSocketView } from './inet-view.js';
export { UnixSocketView } from './unix-view.js';
export { StaleViewError, type Lease } from '../runtime/lease.js';
export { NetlinkError, SyscallError } from '../runtime/errors.js';
export type { NetnsSpec } from '../runtime/netns.js';
export { readerThreadReady, readerThreadStats, startReaderThread, type ReaderThreadStats } from '../runtime/reader-thread.js';
export { ringReceiverStats, startRingReceiver, type RingReceiverStats } from '../runtime/ring-receive.js';
