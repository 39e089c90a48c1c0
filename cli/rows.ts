/**
 * Turns sockets into table rows: ss's netid and state labels, address text, and the
 * detail fragments the flags ask for.
 */
import { netlinkProtocolName } from '../generated/netlink.js';
import { NetlinkState } from '../generated/netlink_diag.js';
import { EthernetProtocol } from '../generated/packet_diag.js';
import { SkMeminfo } from '../generated/sock_diag.js';
import { SocketType, socketTypeName } from '../generated/socket.js';
import type { NetlinkSocketInfo, PacketSocketInfo, SmcSocketInfo, TipcSocketInfo, VsockSocketInfo, XdpSocketInfo } from '../query/families.js';
import { stateName } from '../query/inet.js';
import type { InetSocket, UnixSocket } from '../query/types.js';
import type { CliOptions, Table } from './args.js';
import { bpfText, cgroupText, extendedInet, extendedNetlink, extendedUnix, infoText, inodeCookieText, packetDetails, skmemText, sockoptText, timerText, tosText } from './details.js';
import { processName, usersText, type SocketUser } from './processes.js';
import type { Services } from './services.js';
import { STATE_LABEL } from './states.js';
import { spaced } from './strings.js';
import type { TextRow } from './text.js';

/** What rows need besides the socket. */
export interface RowContext {
  options: CliOptions;
  services?: Services;
  users?: Map<number, SocketUser[]>;
  /** Interface names by index (for `addr%dev`). */
  ifname: (index: number) => string;
  /** cgroup paths by id (for -e). */
  cgroupPath?: (id: bigint) => string | undefined;
  /** UNIX names by inode, to show the peer's name as ss does. */
  unixNames?: ReadonlyMap<number, string>;
}

/** Any socket the command lists. */
export type AnySocket = InetSocket | UnixSocket | NetlinkSocketInfo | PacketSocketInfo | OtherSocket;
/** Sockets of the families this kernel may lack (listed plainly; --json has every field). */
export type OtherSocket = XdpSocketInfo | VsockSocketInfo | SmcSocketInfo | TipcSocketInfo;

const UNIX_NETID: Record<string, string> = { stream: 'u_str', dgram: 'u_dgr', seqpacket: 'u_seq' };
const PACKET_NETID: Record<string, string> = { raw: 'p_raw', dgram: 'p_dgr' };
/** ss's short names of netlink protocols. */
const NETLINK_LABEL: Record<string, string> = {
  route: 'rtnl', firewall: 'fw', 'sock-diag': 'tcpdiag', 'fib-lookup': 'fiblookup', netfilter: 'nft', 'ip6-fw': 'ip6fw', 'kobject-uevent': 'uevent', generic: 'genl',
};

/** The Netid column of a socket. */
export function netid(table: Table, s: AnySocket): string {
  if (s.family === 'unix') return UNIX_NETID[s.type] ?? s.type;
  if (s.family === 'packet') return PACKET_NETID[socketTypeName(s.pdiagType) ?? ''] ?? 'p_???';
  if (s.family === 'netlink') return 'nl';
  if (s.family === 'vsock') return s.vdiagType === SocketType.dgram ? 'v_dgr' : 'v_str';
  return table;
}

/** The inode of a socket (each family names the field its own way). */
export function inodeOf(s: AnySocket): number {
  switch (s.family) {
    case 'packet':
      return s.pdiagIno;
    case 'netlink':
      return s.ndiagIno;
    case 'xdp':
      return s.xdiagIno;
    case 'vsock':
      return s.vdiagIno;
    case 'smc':
      return Number(s.diagInode);
    case 'tipc':
      return 0;
    default:
      return s.inode;
  }
}

/** The State column of a socket: ss labels; packet and netlink sockets count as unconnected. */
export function stateOf(s: AnySocket): string {
  if (s.family === 'vsock') return stateName(s.vdiagState);
  if (s.family === 'smc') return stateName(s.diagState);
  return 'state' in s ? s.state : 'close';
}

/** Port numbers as text ('' until first needed), made once each: a listing repeats the same ports. */
const PORT_TEXT: string[] = new Array<string>(65536).fill('');

function port(p: number, table: Table, ctx: RowContext): string {
  if (p === 0) return '*';
  if (ctx.services && (table === 'tcp' || table === 'udp' || table === 'mptcp')) return ctx.services.name(p, table === 'udp' ? 'udp' : 'tcp');
  return PORT_TEXT[p] || (PORT_TEXT[p] = String(p));
}

/**
 * An address as ss prints it: IPv6 in brackets, except the wildcard of a dual-stack
 * socket (not IPV6_V6ONLY), which takes IPv4 too: `*`.
 */
function address(addr: string, s: InetSocket, ifindex: number, ctx: RowContext): string {
  const text = s.family !== 'inet6' ? addr : addr === '::' && !s.skv6only ? '*' : `[${addr}]`;
  return ifindex ? `${text}%${ctx.ifname(ifindex)}` : text;
}

export function inetRow(table: Table, s: InetSocket, ctx: RowContext): TextRow {
  const o = ctx.options;
  return {
    netid: table,
    state: STATE_LABEL[s.state] ?? s.state,
    recvQ: String(s.rqueue),
    sendQ: String(s.wqueue),
    localAddr: address(s.src, s, s.ifindex, ctx),
    localPort: port(s.sport, table, ctx),
    peerAddr: address(s.dst, s, 0, ctx),
    peerPort: port(s.dport, table, ctx),
    sep: ':',
    tail: inetTail(s, ctx),
    lines: o.inetSockopt && s.sockopt ? [sockoptText(s)] : undefined,
    // ss prints memory and tcp_info on one line under the row.
    more: spaced(o.memory ? skmemText(s.skmeminfo) : '', o.info ? infoText(s, o.extended || o.timers) : ''),
  };
}

export function unixRow(s: UnixSocket, ctx: RowContext): TextRow {
  const o = ctx.options;
  const peerName = s.peer ? ctx.unixNames?.get(s.peer) : undefined;
  return {
    netid: netid('unix', s),
    state: STATE_LABEL[s.state] ?? s.state,
    recvQ: String(s.rqlen?.udiagRqueue ?? 0),
    sendQ: String(s.rqlen?.udiagWqueue ?? 0),
    localAddr: s.path ?? '*',
    localPort: String(s.inode),
    peerAddr: peerName ?? '*',
    peerPort: String(s.peer ?? 0),
    sep: ' ',
    // ss prints a UNIX socket's memory on its own line, before the -e words.
    tail: spaced(spaced(o.processes ? usersText(ctx.users?.get(s.inode)) : '', o.memory ? skmemText(s.meminfo) : ''), o.extended ? extendedUnix(s) : ''),
    more: '',
  };
}

/**
 * A netlink socket as ss prints it: protocol and port id as numbers (`0:0`, `16:1234`),
 * as `ss -n` does; with -r, by name (`rtnl:kernel`, `genl:systemd/1234`: the command of
 * the process whose pid the port id is, as ss looks it up).
 */
export function netlinkRow(s: NetlinkSocketInfo, ctx: RowContext): TextRow {
  const proto = netlinkProtocolName(s.ndiagProtocol);
  const o = ctx.options;
  return {
    netid: 'nl',
    state: STATE_LABEL.close!,
    recvQ: String(s.meminfo?.[SkMeminfo['rmem-alloc']] ?? 0),
    sendQ: String(s.meminfo?.[SkMeminfo['wmem-alloc']] ?? 0),
    localAddr: o.resolve && proto ? (NETLINK_LABEL[proto] ?? proto) : String(s.ndiagProtocol),
    localPort: netlinkPort(s.ndiagPortid, o.resolve),
    // A connected socket's default destination, `group:portid` as ss prints it; else `*`.
    ...(s.ndiagState === NetlinkState.connected
      ? { peerAddr: String(s.ndiagDstGroup), peerPort: String(s.ndiagDstPortid | 0), peerSep: ':' }
      : { peerAddr: '*', peerPort: '', peerSep: '' }),
    sep: ':',
    tail: socketTail(ctx, s.ndiagIno, o.extended ? extendedNetlink(s) : '', o.memory ? skmemText(s.meminfo) : ''),
    more: '',
  };
}

/** The words after an INET socket's addresses: -p, -o, -e, then --tos and --cgroup, in ss's order. */
function inetTail(s: InetSocket, ctx: RowContext): string {
  const o = ctx.options;
  let tail = spaced(spaced(o.processes ? usersText(ctx.users?.get(s.inode)) : '', o.timers ? timerText(s) : ''), o.extended ? extendedInet(s, ctx.cgroupPath) : '');
  if (o.tos) tail = spaced(tail, tosText(s));
  if (o.cgroup && s.cgroupId !== undefined) tail = spaced(tail, cgroupText(s.cgroupId, ctx.cgroupPath));
  return tail;
}

/**
 * The words after a NETLINK or PACKET socket's addresses: its processes (-p), the `-e`
 * words ss prints there, and its memory (-m) when ss prints it on the socket's own line.
 */
function socketTail(ctx: RowContext, inode: number, extended: string, memory: string): string {
  return spaced(spaced(ctx.options.processes ? usersText(ctx.users?.get(inode)) : '', extended), memory);
}

/**
 * A netlink port id as ss prints it, a signed int (the kernel gives a process's second
 * socket a negative id): `*` for none (-1); with `resolve`, `kernel` for 0 and
 * `name/pid` for a process's.
 */
function netlinkPort(portid: number, resolve: boolean): string {
  const id = portid | 0;
  if (id === -1) return '*';
  if (!resolve || id < 0) return String(id);
  if (id === 0) return 'kernel';
  const name = processName(id);
  return name === undefined ? String(id) : `${name}/${id}`;
}

/**
 * A packet socket: `[2048]:eth0` (protocol number and interface), as `ss -n` shows it;
 * `*` for a socket of every protocol (ETH_P_ALL) or of every interface.
 */
export function packetRow(s: PacketSocketInfo, ctx: RowContext): TextRow {
  const o = ctx.options;
  const index = s.info?.index ?? 0;
  const lines = [...(o.extended ? packetDetails(s) : []), ...(o.bpf && s.filter ? [bpfText(s.filter)] : [])];
  const skmem = o.memory ? skmemText(s.meminfo) : '';
  // ss prints the memory at the end of the last line it printed for the socket.
  if (lines.length > 0 && skmem) lines[lines.length - 1] += ` ${skmem}`;
  return {
    netid: PACKET_NETID[socketTypeName(s.pdiagType) ?? ''] ?? 'p_???',
    state: STATE_LABEL.close!,
    recvQ: String(s.meminfo?.[SkMeminfo['rmem-alloc']] ?? 0),
    sendQ: String(s.meminfo?.[SkMeminfo['wmem-alloc']] ?? 0),
    localAddr: s.pdiagNum === EthernetProtocol.all ? '*' : `[${s.pdiagNum}]`,
    localPort: index ? ctx.ifname(index) : '*',
    peerAddr: '*',
    peerPort: '',
    sep: ':',
    peerSep: '',
    tail: socketTail(ctx, s.pdiagIno, o.extended ? inodeCookieText(s.pdiagIno, s.pdiagCookie) : '', lines.length > 0 ? '' : skmem),
    more: '',
    lines,
  };
}

/** XDP, VSOCK, SMC and TIPC sockets: the endpoints each family has, and the inode. */
export function otherRow(table: Table, s: OtherSocket, ctx: RowContext): TextRow {
  const ends =
    s.family === 'vsock'
      ? [String(s.vdiagSrcCid), String(s.vdiagSrcPort), String(s.vdiagDstCid), String(s.vdiagDstPort)]
      : s.family === 'xdp'
        ? [s.info ? ctx.ifname(s.info.ifindex) : '*', s.info ? String(s.info.queueId) : '*', '*', '*']
        : s.family === 'smc'
          ? [s.id.src, String(s.id.sport), s.id.dst, String(s.id.dport)]
          : ['*', '*', '*', '*'];
  const inode = inodeOf(s);
  return {
    netid: netid(table, s),
    state: STATE_LABEL[stateOf(s)] ?? stateOf(s),
    recvQ: '0',
    sendQ: '0',
    localAddr: ends[0]!,
    localPort: ends[1]!,
    peerAddr: ends[2]!,
    peerPort: ends[3]!,
    sep: ':',
    tail: spaced(ctx.options.processes ? usersText(ctx.users?.get(inode)) : '', ctx.options.extended ? `ino:${inode}` : ''),
    more: '',
  };
}
