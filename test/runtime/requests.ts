/** sock_diag requests and helpers shared by the runtime tests; every number comes from generated/. */
import { readdirSync } from 'node:fs';
import { INET_DIAG_NOCOOKIE, encodeInetDiagReqV2 } from '../../generated/inet_diag.js';
import { NetlinkProtocol, NlmGetFlags } from '../../generated/netlink.js';
import { SockDiagMsgType } from '../../generated/sock_diag.js';
import { AddressFamily, IpProtocol } from '../../generated/socket.js';
import { encodeUnixDiagReq } from '../../generated/unix_diag.js';

export const SOCK_DIAG = NetlinkProtocol['sock-diag'];
export const BY_FAMILY = SockDiagMsgType['diag-by-family'];
export const DUMP = NlmGetFlags.dump;
const ALL_STATES = ~0 >>> 0;
/** A cookie of INET_DIAG_NOCOOKIE in both words: a lookup that does not check the cookie. */
const NO_COOKIE = (BigInt(INET_DIAG_NOCOOKIE) << 32n) | BigInt(INET_DIAG_NOCOOKIE);

export const isRoot = process.getuid?.() === 0;

/** A UNIX dump request (or, with `inode`, a lookup); `family` lets a test send a family the kernel rejects. */
export function unixRequest(options: { show?: number; inode?: number; noCookie?: boolean; family?: number } = {}): Uint8Array {
  return encodeUnixDiagReq({
    sdiagFamily: options.family ?? AddressFamily.unix,
    sdiagProtocol: 0,
    pad: 0,
    udiagStates: ALL_STATES,
    udiagIno: options.inode ?? 0,
    udiagShow: options.show ?? 0,
    udiagCookie: options.noCookie ? NO_COOKIE : 0n,
  });
}

/** A dump request of all IPv4 TCP sockets. */
export function tcpDumpRequest(): Uint8Array {
  return encodeInetDiagReqV2({
    sdiagFamily: AddressFamily.inet,
    sdiagProtocol: IpProtocol.tcp,
    idiagExt: 0,
    pad: 0,
    idiagStates: ALL_STATES,
    id: { sport: 0, dport: 0, src: '0.0.0.0', dst: '0.0.0.0', if: 0, cookie: 0n },
  });
}

/** The number of open file descriptors of this process. */
export const openFds = (): number => readdirSync('/proc/self/fd').length;
