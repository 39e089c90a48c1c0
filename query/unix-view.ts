/**
 * {@link UnixSocketView}: a UNIX socket of a dump, read where its reply message lies
 * in the receive buffer, as {@link SockDiag.unixViews} yields them.
 */
import { socketTypeName, type SocketTypeName } from '../generated/socket.js';
import { UNIX_DIAG_MSG_SIZE, UnixDiagAttrsView, UnixDiagMsgView } from '../generated/unix_diag.js';
import { staleView, type Lease } from '../runtime/lease.js';
import type { NetlinkMessage } from '../runtime/netlink-socket.js';
import { stateName } from './inet.js';
import type { StateName, UnixSocket } from './types.js';
import { decodeUnixSocket, UNIX_ATTRS_AT, unixDisplayName } from './unix.js';

/**
 * A UNIX socket read where it lies: the fields of {@link UnixSocket}, each read from the
 * reply message when it is read, as {@link InetSocketView} does for INET sockets. Read it
 * inside the loop: read after the dump moved past its datagram, it throws a
 * StaleViewError; {@link UnixSocketView.decode} gives the {@link UnixSocket} to keep.
 */
export class UnixSocketView extends UnixDiagAttrsView {
  private readonly msg: UnixDiagMsgView;

  constructor(
    private readonly message: NetlinkMessage,
    private readonly datagram: Lease,
  ) {
    super(message.view, message.offset + UNIX_ATTRS_AT, message.length - UNIX_ATTRS_AT, datagram);
    this.msg = new UnixDiagMsgView(message.view, message.offset, Math.min(message.length, UNIX_DIAG_MSG_SIZE), datagram);
  }

  get family(): 'unix' {
    return 'unix';
  }
  /** `stream`, `dgram` or `seqpacket`. */
  get type(): SocketTypeName | `type-${number}` {
    const type = this.msg.udiagType;
    return socketTypeName(type) ?? `type-${type}`;
  }
  get state(): StateName {
    return stateName(this.msg.udiagState);
  }
  get inode(): number {
    return this.msg.udiagIno;
  }
  get cookie(): bigint {
    return this.msg.udiagCookie;
  }
  /** The bound name for display (see {@link UnixSocket.path}); the raw bytes are in `name`. */
  get path(): string | undefined {
    const name = this.name;
    return name !== undefined && name.length > 0 ? unixDisplayName(name) : undefined;
  }

  /** The whole socket, decoded into the {@link UnixSocket} that {@link SockDiag.unix} yields, which stays valid. */
  override decode(): UnixSocket {
    if (!this.datagram.live) staleView('a UNIX socket');
    return decodeUnixSocket(this.message);
  }
}
