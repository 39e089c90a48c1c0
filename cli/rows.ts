/**
 * Turns sockets into table rows: ss's netid and state labels, address text, and the
 * detail fragments the flags ask for.
 */
import type { InetSocket, UnixSocket } from '../query/types.js';
import type { CliOptions, Table } from './args.js';
import { extendedInet, extendedUnix, infoText, skmemText, timerText } from './details.js';
import { usersText, type SocketUser } from './processes.js';
import type { Services } from './services.js';
import { STATE_LABEL } from './states.js';
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
  unixNames?: Map<number, string>;
}

const UNIX_NETID: Record<string, string> = { stream: 'u_str', dgram: 'u_dgr', seqpacket: 'u_seq' };

/** The Netid column of a socket. */
export function netid(table: Table, s: InetSocket | UnixSocket): string {
  return s.family === 'unix' ? (UNIX_NETID[s.type] ?? s.type) : table;
}

function port(p: number, table: Table, ctx: RowContext): string {
  if (p === 0) return '*';
  if (ctx.services && (table === 'tcp' || table === 'udp' || table === 'mptcp')) return ctx.services.name(p, table === 'udp' ? 'udp' : 'tcp');
  return String(p);
}

function address(addr: string, family: string, ifindex: number, ctx: RowContext): string {
  const text = family === 'inet6' ? `[${addr}]` : addr;
  return ifindex ? `${text}%${ctx.ifname(ifindex)}` : text;
}

function tail(parts: string[]): string {
  return parts.filter((p) => p !== '').join(' ');
}

export function inetRow(table: Table, s: InetSocket, ctx: RowContext): TextRow {
  const o = ctx.options;
  const more: string[] = [];
  if (o.memory) more.push(skmemText(s.skmeminfo));
  if (o.info) more.push(infoText(s));
  return {
    netid: table,
    state: STATE_LABEL[s.state] ?? s.state,
    recvQ: String(s.rqueue),
    sendQ: String(s.wqueue),
    localAddr: address(s.src, s.family, s.ifindex, ctx),
    localPort: port(s.sport, table, ctx),
    peerAddr: address(s.dst, s.family, 0, ctx),
    peerPort: port(s.dport, table, ctx),
    sep: ':',
    tail: tail([o.processes ? usersText(ctx.users?.get(s.inode)) : '', o.timers ? timerText(s) : '', o.extended ? extendedInet(s, ctx.cgroupPath) : '']),
    more: more.filter((m) => m !== ''),
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
    tail: tail([o.processes ? usersText(ctx.users?.get(s.inode)) : '', o.extended ? extendedUnix(s) : '']),
    more: o.memory && s.meminfo ? [skmemText(s.meminfo)] : [],
  };
}
