/**
 * Destroy events: the kernel multicasts the final state of every TCP and UDP socket
 * it destroys to the SKNLGRP_* groups of sock_diag.
 */
import { NetlinkProtocol } from '../generated/netlink.js';
import { SockDiagMcastGroup, SockDiagMsgType } from '../generated/sock_diag.js';
import { SyscallError } from '../runtime/errors.js';
import { NetlinkSocket } from '../runtime/netlink-socket.js';
import { checkWatchOptions } from './check.js';
import { decodeInetSocket } from './inet.js';
import type { InetSocket, QueryOptions } from './types.js';

/** Which destroy events to receive (default: all four). */
export interface WatchOptions extends QueryOptions {
  protocols?: readonly ('tcp' | 'udp')[];
  families?: readonly ('inet' | 'inet6')[];
  /** Stops the watch when aborted. */
  signal?: AbortSignal;
  /**
   * The receive buffer that holds events not yet read, in bytes (see
   * NetlinkSocket.setReceiveBuffer; the kernel doubles it). Default 1 MiB, as iproute2
   * sets for `ss -E`: about 1,600 TCP events (Linux 6.18).
   */
  rcvbuf?: number;
  /**
   * Called when the kernel dropped events because they came faster than they were read
   * and the receive buffer was full (ENOBUFS; a process that exits with many sockets
   * open does that). The watch goes on with the events that follow. Without it, the
   * watch ends there, throwing that SyscallError.
   */
  onOverflow?: () => void;
}

/** The default {@link WatchOptions.rcvbuf}. */
const WATCH_RCVBUF = 1024 * 1024;

/**
 * Yields each destroyed socket with its final state as the kernel sends it
 * (tcp_info and the other attributes included). Waits on the event loop without
 * holding a thread; ending the iteration (or aborting `signal`) closes the socket.
 * @throws SyscallError `ENOBUFS` when events were lost, unless `onOverflow` is given.
 */
export async function* watch(options: WatchOptions = {}): AsyncGenerator<InetSocket, void> {
  checkWatchOptions(options);
  const protocols = options.protocols ?? ['tcp', 'udp'];
  const families = options.families ?? ['inet', 'inet6'];
  const groups = families.flatMap((f) => protocols.map((p) => SockDiagMcastGroup[`${f}-${p}-destroy`]));
  using socket = subscribe(options, groups);
  const stop = () => socket.close();
  options.signal?.addEventListener('abort', stop, { once: true });
  try {
    if (options.signal?.aborted) return;
    for (;;) {
      try {
        for await (const m of socket.messages()) {
          if (m.type === SockDiagMsgType['diag-by-family']) yield decodeInetSocket(m);
        }
        return;
      } catch (e) {
        // The socket reports an overflow once, and receives on.
        if (!(options.onOverflow && e instanceof SyscallError && e.code === 'ENOBUFS')) throw e;
        options.onOverflow();
      }
    }
  } finally {
    options.signal?.removeEventListener('abort', stop);
  }
}

/** Opens the socket that receives the events; a refused subscription says what it needs. */
function subscribe(options: WatchOptions, groups: number[]): NetlinkSocket {
  try {
    return NetlinkSocket.open(NetlinkProtocol['sock-diag'], { netns: options.netns, groups, rcvbuf: options.rcvbuf ?? WATCH_RCVBUF });
  } catch (e) {
    if (e instanceof SyscallError && e.code === 'EPERM' && e.syscall === 'setsockopt') {
      throw new SyscallError(e.syscall, e.errno, 'subscribing to sock_diag destroy events needs CAP_NET_ADMIN');
    }
    throw e;
  }
}
