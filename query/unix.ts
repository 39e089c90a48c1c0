/**
 * UNIX requests and replies: builds `struct unix_diag_req` and turns each reply
 * message into a {@link UnixSocket}.
 */
import { AddressFamily, socketTypeName } from '../generated/socket.js';
import { decodeUnixDiagAttrs, decodeUnixDiagMsg, encodeUnixDiagReq, UdiagShow, udiagShowMask, UNIX_DIAG_MSG_SIZE } from '../generated/unix_diag.js';
import { nlmsgAlign, type NetlinkMessage } from '../runtime/netlink-socket.js';
import { NO_COOKIE, stateMask, stateName } from './inet.js';
import { displayBytes } from './display.js';
import type { UnixQuery, UnixSocket } from './types.js';

/** Where a reply's attributes start: after `struct unix_diag_msg`, aligned. */
export const UNIX_ATTRS_AT = nlmsgAlign(UNIX_DIAG_MSG_SIZE);
const ALL_SHOW = Object.keys(UdiagShow) as (keyof typeof UdiagShow)[];

/** The request body of a UNIX dump, or of a lookup when `inode` is given. */
export function unixRequest(q: UnixQuery, inode = 0, cookie = NO_COOKIE): Uint8Array {
  return encodeUnixDiagReq({
    sdiagFamily: AddressFamily.unix,
    sdiagProtocol: 0,
    pad: 0,
    udiagStates: stateMask(q.states),
    udiagIno: inode,
    udiagShow: udiagShowMask(q.show ?? ALL_SHOW),
    udiagCookie: cookie,
  });
}

/** Decodes one reply message into a {@link UnixSocket}. */
export function decodeUnixSocket(m: NetlinkMessage): UnixSocket {
  const { view, offset, length } = m;
  const msg = decodeUnixDiagMsg(view, offset, Math.min(length, UNIX_DIAG_MSG_SIZE));
  const sock = decodeUnixDiagAttrs(view, offset + UNIX_ATTRS_AT, length - UNIX_ATTRS_AT, {
    family: 'unix' as const,
    type: socketTypeName(msg.udiagType) ?? (`type-${msg.udiagType}` as const),
    state: stateName(msg.udiagState),
    inode: msg.udiagIno,
    cookie: msg.udiagCookie,
    path: undefined as string | undefined,
  });
  if (sock.name !== undefined && sock.name.length > 0) sock.path = unixDisplayName(sock.name);
  return sock;
}

/**
 * The display form of a UNIX socket name: a path up to its NUL terminator, or `@`
 * for the NUL bytes of an abstract name (as ss shows them); control characters
 * and bytes that are not UTF-8 escaped as `\xNN`, so that no name can move the
 * terminal's cursor.
 */
export function unixDisplayName(name: Uint8Array): string {
  // A path name ends at its first NUL (the kernel may keep the terminator); an abstract name has no end marker.
  const end = name[0] === 0 || name.indexOf(0) === -1 ? name.length : name.indexOf(0);
  return displayBytes(name.subarray(0, end), '@');
}
