/**
 * Socket destroy (SOCK_DESTROY): closes sockets the kernel way, as `ss -K` does. The
 * kernel aborts the socket (the peer of a TCP connection sees a reset). It needs
 * CAP_NET_ADMIN and a kernel built with CONFIG_INET_DIAG_DESTROY.
 */
import { NlmFlags } from '../generated/netlink.js';
import { SockDiagMsgType } from '../generated/sock_diag.js';
import { NetlinkError } from '../runtime/errors.js';
import type { NetlinkSocket } from '../runtime/netlink-socket.js';
import { inetRequest, stateMask } from './inet.js';
import type { InetLookup, InetSocket } from './types.js';

/** Why a destroy cannot work at all (as opposed to one socket that vanished first). */
export class DestroyUnsupportedError extends Error {
  override name = 'DestroyUnsupportedError';
  constructor(override readonly cause: NetlinkError) {
    super(
      cause.code === 'EPERM'
        ? 'destroying sockets needs CAP_NET_ADMIN (run as root)'
        : cause.code === 'EOPNOTSUPP'
          ? 'this kernel cannot destroy sockets of this kind (CONFIG_INET_DIAG_DESTROY is off, or the protocol has no destroy)'
          : `the kernel refused to destroy sockets: ${cause.message}`,
    );
  }
}

/** The outcome for one socket. */
export interface DestroyResult {
  socket: InetSocket;
  /** Undefined when destroyed; `ENOENT` when it was gone already. */
  error?: NetlinkError;
}

/** Sends SOCK_DESTROY for one socket on `socket` and waits for the kernel's answer. */
export function destroyOne(socket: NetlinkSocket, id: InetLookup): NetlinkError | undefined {
  try {
    for (const _ of socket.request(SockDiagMsgType.destroy, NlmFlags.ack, inetRequest(id, id.family, stateMask(undefined))));
    return undefined;
  } catch (e) {
    if (!(e instanceof NetlinkError)) throw e;
    if (e.code === 'EPERM' || e.code === 'EOPNOTSUPP' || e.code === 'EINVAL') throw new DestroyUnsupportedError(e);
    return e;
  }
}

/** The lookup id of a dumped socket: its 4-tuple, interface and cookie. */
export function socketId(s: InetSocket, protocol: InetLookup['protocol']): InetLookup {
  return { family: s.family, protocol, src: s.src, sport: s.sport, dst: s.dst, dport: s.dport, ifindex: s.ifindex, cookie: s.cookie };
}
