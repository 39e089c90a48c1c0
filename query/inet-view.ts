/**
 * {@link InetSocketView}: an INET socket of a dump, read where its reply message
 * lies in the receive buffer, as {@link SockDiag.inetViews} yields them.
 */
import { idiagTimerName, INET_DIAG_MSG_SIZE, InetDiagAttrsView, InetDiagMsgView, type IdiagTimerName, type InetDiagSockidView } from '../generated/inet_diag.js';
import { AddressFamily } from '../generated/socket.js';
import { staleView, type Lease } from '../runtime/lease.js';
import type { NetlinkMessage } from '../runtime/netlink-socket.js';
import { decodeInetSocket, INET_ATTRS_AT, stateName } from './inet.js';
import type { InetSocket, StateName } from './types.js';

/**
 * An INET socket read where it lies: the fields of {@link InetSocket}, each read from
 * the reply message when it is read (the attributes, such as `info` or `cong`, are
 * found when read, and structs come as views: `view.info?.rtt`). Nothing else of the
 * message is decoded, so a caller that reads a few fields of each socket of a large
 * dump skips the cost of the rest.
 *
 * A view reads the receive buffer, which the dump reuses once it moves past the
 * view's datagram: read it inside the loop. Read later, it throws a StaleViewError
 * rather than read another socket's bytes; {@link InetSocketView.decode} gives the
 * {@link InetSocket} to keep.
 */
export class InetSocketView extends InetDiagAttrsView {
  private readonly msg: InetDiagMsgView;
  private sockid?: InetDiagSockidView;

  constructor(
    private readonly message: NetlinkMessage,
    /** The IP protocol number, which picks the struct of `info` (tcp_info, mptcp_info, sctp_info). */
    private readonly ipProtocol: number,
    private readonly datagram: Lease,
  ) {
    super(message.view, message.offset + INET_ATTRS_AT, message.length - INET_ATTRS_AT, datagram, ipProtocol);
    this.msg = new InetDiagMsgView(message.view, message.offset, Math.min(message.length, INET_DIAG_MSG_SIZE), datagram);
  }

  private id(): InetDiagSockidView {
    return (this.sockid ??= this.msg.id);
  }

  /** `inet` (IPv4) or `inet6` (IPv6). */
  get family(): 'inet' | 'inet6' {
    return this.msg.family === AddressFamily.inet6 ? 'inet6' : 'inet';
  }
  get state(): StateName {
    return stateName(this.msg.state);
  }
  /** The pending TCP timer. */
  get timer(): IdiagTimerName | `timer-${number}` {
    const timer = this.msg.timer;
    return idiagTimerName(timer) ?? `timer-${timer}`;
  }
  /** Retransmissions or probes sent for the pending timer. */
  get retrans(): number {
    return this.msg.retrans;
  }
  /** Local address as text (`127.0.0.1`, `::1`). */
  get src(): string {
    return this.id().src;
  }
  /** Remote address as text. */
  get dst(): string {
    return this.id().dst;
  }
  get sport(): number {
    return this.id().sport;
  }
  get dport(): number {
    return this.id().dport;
  }
  /** Interface the socket is bound to, 0 for none. */
  get ifindex(): number {
    return this.id().if;
  }
  /** The kernel's unique id of the socket. */
  get cookie(): bigint {
    return this.id().cookie;
  }
  /** Milliseconds until the pending timer fires. */
  get expires(): number {
    return this.msg.expires;
  }
  /** Receive queue bytes, or pending connections of a listener. */
  get rqueue(): number {
    return this.msg.rqueue;
  }
  /** Send queue bytes, or the backlog of a listener. */
  get wqueue(): number {
    return this.msg.wqueue;
  }
  get uid(): number {
    return this.msg.uid;
  }
  get inode(): number {
    return this.msg.inode;
  }

  /** The whole socket, decoded into the {@link InetSocket} that {@link SockDiag.inet} yields, which stays valid. */
  override decode(): InetSocket {
    if (!this.datagram.live) staleView('an INET socket');
    return decodeInetSocket(this.message, this.ipProtocol);
  }
}
