/**
 * INET requests and replies: builds `struct inet_diag_req_v2` (plus request
 * attributes) and turns each reply message into an {@link InetSocket}.
 */
import {
  decodeInetDiagAttrs,
  decodeInetDiagMsg,
  encodeInetDiagReq,
  encodeInetDiagReqAttrs,
  encodeInetDiagReqV2,
  idiagTimerName,
  INET_DIAG_MSG_SIZE,
  INET_DIAG_NOCOOKIE,
  inetDiagExtMask,
  tcpStateName,
  TCPDIAG_GETSOCK,
  TcpState,
  type InetDiagReqAttrs,
  type TcpStateName,
} from '../generated/inet_diag.js';
import { SockDiagMsgType } from '../generated/sock_diag.js';
import { AddressFamily, IpProtocol } from '../generated/socket.js';
import { nlmsgAlign, type NetlinkMessage } from '../runtime/netlink-socket.js';
import type { InetLookup, InetProtocol, InetQuery, InetSocket, StateName } from './types.js';

/** Where a reply's attributes start: after `struct inet_diag_msg`, aligned. */
export const INET_ATTRS_AT = nlmsgAlign(INET_DIAG_MSG_SIZE);
/** The cookie of a request that names no socket by cookie (INET_DIAG_NOCOOKIE in both words). */
export const NO_COOKIE = (BigInt(INET_DIAG_NOCOOKIE) << 32n) | BigInt(INET_DIAG_NOCOOKIE);
/** The largest protocol number that fits the request's u8 sdiag_protocol. */
const U8_MAX = 0xff;

/** The `states` mask that selects every state. */
export const ALL_STATES = 0xffffffff;

/** The state name of a state value. */
export function stateName(value: number): StateName {
  return tcpStateName(value) ?? `state-${value}`;
}

/** The `idiag_states` mask of a list of states; all states when none are given. */
export function stateMask(states: readonly TcpStateName[] | undefined): number {
  if (states === undefined) return ALL_STATES;
  let mask = 0;
  for (const s of states) mask |= 2 ** TcpState[s];
  return mask >>> 0;
}

/** One request body for `family` (`inet` or `inet6`). */
export function inetRequest(q: InetQuery | InetLookup, family: 'inet' | 'inet6', states: number): Uint8Array {
  const protocol = IpProtocol[q.protocol ?? 'tcp'];
  const fam = AddressFamily[family];
  const lookup = 'src' in q;
  const any = family === 'inet' ? '0.0.0.0' : '::';
  const req = encodeInetDiagReqV2({
    sdiagFamily: fam,
    // Protocols above 255 (MPTCP) travel in INET_DIAG_REQ_PROTOCOL instead.
    sdiagProtocol: protocol > U8_MAX ? 0 : protocol,
    idiagExt: inetDiagExtMask(q.ext ?? []),
    pad: 0,
    idiagStates: states,
    id: {
      sport: q.sport ?? 0,
      dport: q.dport ?? 0,
      src: lookup ? q.src : any,
      dst: lookup ? q.dst : any,
      if: lookup ? (q.ifindex ?? 0) : 0,
      cookie: lookup ? (q.cookie ?? NO_COOKIE) : NO_COOKIE,
    },
  });
  const attrs: InetDiagReqAttrs = {};
  if (protocol > U8_MAX) attrs.protocol = protocol;
  if (!lookup && q.bytecode) attrs.bytecode = q.bytecode;
  const tail = encodeInetDiagReqAttrs(attrs);
  const out = new Uint8Array(req.length + tail.length);
  out.set(req);
  out.set(tail, req.length);
  return out;
}

/**
 * The id to send for a lookup (a request without NLM_F_DUMP). udp_diag's lookup takes
 * the request's source as the packet's source, i.e. the socket's remote end ("src and
 * dst are swapped for historical reasons", net/ipv4/udp_diag.c), while the TCP lookup
 * and the UDP destroy take it as the local end: for UDP the ends are swapped here, so
 * that `src` is the local end in every InetLookup.
 */
export function lookupId(q: InetLookup): InetLookup {
  const udp = q.protocol === 'udp' || q.protocol === 'udplite';
  return udp ? { ...q, src: q.dst, sport: q.dport, dst: q.src, dport: q.sport } : q;
}

/**
 * Decodes one reply message into an {@link InetSocket}. `protocol` (an IP protocol
 * number) picks the struct of INET_DIAG_INFO: tcp_info, or mptcp_info / sctp_info.
 */
export function decodeInetSocket(m: NetlinkMessage, protocol?: number): InetSocket {
  const { view, offset, length } = m;
  // The fixed header only: the attributes after it are not extra bytes of the struct.
  const msg = decodeInetDiagMsg(view, offset, Math.min(length, INET_DIAG_MSG_SIZE));
  const id = msg.id;
  const sock = {
    family: msg.family === AddressFamily.inet6 ? 'inet6' : 'inet',
    state: stateName(msg.state),
    timer: idiagTimerName(msg.timer) ?? `timer-${msg.timer}`,
    retrans: msg.retrans,
    src: id.src,
    dst: id.dst,
    sport: id.sport,
    dport: id.dport,
    ifindex: id.if,
    cookie: id.cookie,
    expires: msg.expires,
    rqueue: msg.rqueue,
    wqueue: msg.wqueue,
    uid: msg.uid,
    inode: msg.inode,
  } satisfies Omit<InetSocket, keyof import('../generated/inet_diag.js').InetDiagAttrs>;
  return decodeInetDiagAttrs(view, offset + INET_ATTRS_AT, length - INET_ATTRS_AT, sock as InetSocket, protocol);
}

/**
 * The requests of a dump: one per family; but TCP of both families is one legacy
 * TCPDIAG_GETSOCK request, which the kernel answers in one walk of its socket tables,
 * where two SOCK_DIAG_BY_FAMILY requests (what ss 6.1 sends) walk them twice.
 */
export function inetRequests(q: InetQuery, states: number): { type: number; payload: Uint8Array }[] {
  const both = (q.family ?? 'all') === 'all';
  if (both && (q.protocol ?? 'tcp') === 'tcp') return [{ type: TCPDIAG_GETSOCK, payload: legacyRequest(q, states) }];
  const families: ('inet' | 'inet6')[] = both ? ['inet', 'inet6'] : [q.family as 'inet' | 'inet6'];
  return families.map((f) => ({ type: SockDiagMsgType['diag-by-family'], payload: inetRequest(q, f, states) }));
}

/** `struct inet_diag_req` (v1) for TCPDIAG_GETSOCK; the kernel dumps both families for it. */
function legacyRequest(q: InetQuery, states: number): Uint8Array {
  const req = encodeInetDiagReq({
    family: AddressFamily.inet,
    srcLen: 0,
    dstLen: 0,
    ext: inetDiagExtMask(q.ext ?? []),
    id: { sport: q.sport ?? 0, dport: q.dport ?? 0, src: '0.0.0.0', dst: '0.0.0.0', if: 0, cookie: NO_COOKIE },
    states,
    dbs: 0,
  });
  const tail = q.bytecode ? encodeInetDiagReqAttrs({ bytecode: q.bytecode }) : new Uint8Array(0);
  const out = new Uint8Array(req.length + tail.length);
  out.set(req);
  out.set(tail, req.length);
  return out;
}

/** Whether a decoded socket passes the port filters the kernel may not apply (UDP dumps ignore them). */
export function portsMatch(q: InetQuery, s: Pick<InetSocket, 'sport' | 'dport'>): boolean {
  return (q.sport === undefined || s.sport === q.sport) && (q.dport === undefined || s.dport === q.dport);
}

export type { InetProtocol };
