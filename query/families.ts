/**
 * The sock_diag families besides INET and UNIX: NETLINK, PACKET, XDP, VSOCK, SMC and
 * TIPC. Each is a request builder and a reply decoder over the generated code; a
 * record is the family's fixed header (without `extra`) plus every attribute.
 */
import { ALL_STATES, NO_COOKIE } from './inet.js';
import { decodeNetlinkDiagAttrs, decodeNetlinkDiagMsg, encodeNetlinkDiagReq, NDIAG_PROTO_ALL, NdiagShow, ndiagShowMask, NETLINK_DIAG_MSG_SIZE, type NetlinkDiagAttrs, type NetlinkDiagMsg } from '../generated/netlink_diag.js';
import { decodePacketDiagAttrs, decodePacketDiagMsg, encodePacketDiagReq, PACKET_DIAG_MSG_SIZE, PacketShow, packetShowMask, type PacketDiagAttrs, type PacketDiagMsg } from '../generated/packet_diag.js';
import { decodeSmcDiagAttrs, decodeSmcDiagMsg, encodeSmcDiagReq, SMC_DIAG_MSG_SIZE, SmcDiagExt, smcDiagExtMask, type SmcDiagAttrs, type SmcDiagMsg } from '../generated/smc_diag.js';
import { AddressFamily } from '../generated/socket.js';
import { encodeTipcSockDiagReq } from '../generated/tipc_sockets_diag.js';
import { decodeVsockDiagMsg, encodeVsockDiagReq, VSOCK_DIAG_MSG_SIZE, type VsockDiagMsg } from '../generated/vm_sockets_diag.js';
import { decodeXdpDiagAttrs, decodeXdpDiagMsg, encodeXdpDiagReq, XDP_DIAG_MSG_SIZE, XdpShow, xdpShowMask, type XdpDiagAttrs, type XdpDiagMsg } from '../generated/xdp_diag.js';
import { copyBytes } from '../runtime/codec.js';
import { nlmsgAlign, type NetlinkMessage } from '../runtime/netlink-socket.js';

const names = <T extends object>(o: T) => Object.keys(o) as (keyof T)[];

type Header<M> = Omit<M, 'extra'>;
/** A NETLINK socket: `struct netlink_diag_msg` and its attributes. */
export type NetlinkSocketInfo = { family: 'netlink' } & Header<NetlinkDiagMsg> & NetlinkDiagAttrs;
/** A PACKET socket: `struct packet_diag_msg` and its attributes. */
export type PacketSocketInfo = { family: 'packet' } & Header<PacketDiagMsg> & PacketDiagAttrs;
/** An AF_XDP socket: `struct xdp_diag_msg` and its attributes. */
export type XdpSocketInfo = { family: 'xdp' } & Header<XdpDiagMsg> & XdpDiagAttrs;
/** A VSOCK socket: `struct vsock_diag_msg` (no attributes). */
export type VsockSocketInfo = { family: 'vsock' } & Header<VsockDiagMsg>;
/** An SMC socket: `struct smc_diag_msg` and its attributes. */
export type SmcSocketInfo = { family: 'smc' } & Header<SmcDiagMsg> & SmcDiagAttrs;
/** A TIPC socket: its TIPC_NLA_SOCK attributes (linux/tipc_netlink.h), kept as bytes. */
export type TipcSocketInfo = { family: 'tipc'; bytes: Uint8Array };

/** Records by family name. */
export interface FamilySockets {
  netlink: NetlinkSocketInfo;
  packet: PacketSocketInfo;
  xdp: XdpSocketInfo;
  vsock: VsockSocketInfo;
  smc: SmcSocketInfo;
  tipc: TipcSocketInfo;
}
export type FamilyName = keyof FamilySockets;

/** How to ask for and read one family. */
interface FamilySpec<F extends FamilyName> {
  request(): Uint8Array;
  decode(m: NetlinkMessage): FamilySockets[F];
}

/** Decodes a fixed header (only its own bytes) and the attributes after it into one record. */
function record<R>(
  family: FamilyName,
  m: NetlinkMessage,
  size: number,
  header: (v: DataView, o: number, l: number) => { extra?: Uint8Array },
  attrs?: (v: DataView, o: number, l: number, target: object) => object,
): R {
  const { extra: _, ...fields } = header(m.view, m.offset, Math.min(m.length, size));
  const target = { family, ...fields };
  const at = nlmsgAlign(size);
  return (attrs ? attrs(m.view, m.offset + at, m.length - at, target) : target) as R;
}

export const FAMILIES: { [F in FamilyName]: FamilySpec<F> } = {
  netlink: {
    request: () =>
      encodeNetlinkDiagReq({ sdiagFamily: AddressFamily.netlink, sdiagProtocol: NDIAG_PROTO_ALL, pad: 0, ndiagIno: 0, ndiagShow: ndiagShowMask(names(NdiagShow)), ndiagCookie: NO_COOKIE }),
    decode: (m) => record<NetlinkSocketInfo>('netlink', m, NETLINK_DIAG_MSG_SIZE, decodeNetlinkDiagMsg, decodeNetlinkDiagAttrs),
  },
  packet: {
    request: () => encodePacketDiagReq({ sdiagFamily: AddressFamily.packet, sdiagProtocol: 0, pad: 0, pdiagIno: 0, pdiagShow: packetShowMask(names(PacketShow)), pdiagCookie: NO_COOKIE }),
    decode: (m) => record<PacketSocketInfo>('packet', m, PACKET_DIAG_MSG_SIZE, decodePacketDiagMsg, decodePacketDiagAttrs),
  },
  xdp: {
    request: () => encodeXdpDiagReq({ sdiagFamily: AddressFamily.xdp, sdiagProtocol: 0, pad: 0, xdiagIno: 0, xdiagShow: xdpShowMask(names(XdpShow)), xdiagCookie: NO_COOKIE }),
    decode: (m) => record<XdpSocketInfo>('xdp', m, XDP_DIAG_MSG_SIZE, decodeXdpDiagMsg, decodeXdpDiagAttrs),
  },
  vsock: {
    request: () => encodeVsockDiagReq({ sdiagFamily: AddressFamily.vsock, sdiagProtocol: 0, pad: 0, vdiagStates: ALL_STATES, vdiagIno: 0, vdiagShow: 0, vdiagCookie: NO_COOKIE }),
    decode: (m) => record<VsockSocketInfo>('vsock', m, VSOCK_DIAG_MSG_SIZE, decodeVsockDiagMsg),
  },
  smc: {
    request: () =>
      encodeSmcDiagReq({
        diagFamily: AddressFamily.smc,
        pad: new Uint8Array(3),
        diagExt: smcDiagExtMask(names(SmcDiagExt)),
        // The id is ignored in a dump: all zero (the family is AF_SMC, so any address text of 16 bytes).
        id: { sport: 0, dport: 0, src: '::', dst: '::', if: 0, cookie: NO_COOKIE },
      }),
    decode: (m) => record<SmcSocketInfo>('smc', m, SMC_DIAG_MSG_SIZE, decodeSmcDiagMsg, decodeSmcDiagAttrs),
  },
  tipc: {
    request: () => encodeTipcSockDiagReq({ sdiagFamily: AddressFamily.tipc, sdiagProtocol: 0, pad: 0, tidiagStates: ALL_STATES }),
    decode: (m) => ({ family: 'tipc', bytes: copyBytes(m.view, m.offset, m.length) }),
  },
};
