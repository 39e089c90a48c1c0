/**
 * Parsing what `ss` (iproute2) prints, the independent oracle of the real-kernel
 * query tests, and mapping the library's records to the same shape.
 */
import type { InetSocket, StateName, UnixSocket } from '../../query/index.js';

/** The labels ss prints for socket states (ss.c, `sstate_name`). */
export const SS_STATE: Record<string, string> = {
  established: 'ESTAB',
  'syn-sent': 'SYN-SENT',
  'syn-recv': 'SYN-RECV',
  'fin-wait-1': 'FIN-WAIT-1',
  'fin-wait-2': 'FIN-WAIT-2',
  'time-wait': 'TIME-WAIT',
  close: 'UNCONN',
  'close-wait': 'CLOSE-WAIT',
  'last-ack': 'LAST-ACK',
  listen: 'LISTEN',
  closing: 'CLOSING',
  'new-syn-recv': 'SYN-RECV',
};

/** ss's label of a state name. */
export function ssState(state: StateName): string {
  const label = SS_STATE[state];
  if (label === undefined) throw new Error(`no ss label for state ${state}`);
  return label;
}

/** ss's Netid of a UNIX socket type. */
export const SS_UNIX_NETID: Record<string, string> = { stream: 'u_str', dgram: 'u_dgr', seqpacket: 'u_seq' };

/** One socket as a comparable row: what ss prints in its first columns and `ino:`. */
export interface SsRow {
  netid: string;
  state: string;
  recvQ: number;
  sendQ: number;
  /** `ADDR:PORT` with the wildcard address as `*` and port 0 as `*`; for UNIX the name (`*` when none). */
  local: string;
  /** Like `local`; for UNIX always `*` (see {@link unixRows}). */
  peer: string;
  /** The socket's inode. */
  inode: number;
  /** UNIX only: the peer's inode (0 when none). */
  peerInode?: number;
}

/** A row as text, for set comparisons with readable diffs. */
export const rowKey = (r: SsRow): string =>
  [r.netid, r.state, r.recvQ, r.sendQ, r.local, r.peer, `ino:${r.inode}`, ...(r.peerInode !== undefined ? [`peer-ino:${r.peerInode}`] : [])].join(' ');

/** `ADDR:PORT` as ss prints it with -n, normalised: brackets dropped, any address and port 0 as `*`. */
export function normaliseEndpoint(text: string): string {
  const m = /^(.*):([^:\]]+)$/.exec(text);
  if (!m) throw new Error(`not an ss endpoint: ${text}`);
  let addr = m[1]!;
  if (addr.startsWith('[') && addr.endsWith(']')) addr = addr.slice(1, -1);
  return `${wildcard(addr)}:${m[2] === '0' ? '*' : m[2]}`;
}

const wildcard = (addr: string) => (addr === '0.0.0.0' || addr === '::' || addr === '*' ? '*' : addr);

/** An INET socket of the library as an ss row. */
export function inetRow(s: InetSocket, netid: 'tcp' | 'udp'): SsRow {
  return {
    netid,
    state: ssState(s.state),
    recvQ: s.rqueue,
    sendQ: s.wqueue,
    local: `${wildcard(s.src)}:${s.sport === 0 ? '*' : s.sport}`,
    peer: `${wildcard(s.dst)}:${s.dport === 0 ? '*' : s.dport}`,
    inode: s.inode,
  };
}

/**
 * The UNIX sockets of the library as ss rows. ss names no peer when it reads sockets
 * through netlink (`peer_name` is only filled from /proc/net/unix): its peer column is
 * `* PEER-INODE`.
 */
export function unixRows(all: readonly UnixSocket[]): SsRow[] {
  return all.map((s) => ({
    netid: SS_UNIX_NETID[s.type] ?? s.type,
    state: ssState(s.state),
    recvQ: s.rqlen?.udiagRqueue ?? -1,
    sendQ: s.rqlen?.udiagWqueue ?? -1,
    local: s.path ?? '*',
    peer: '*',
    inode: s.inode,
    peerInode: s.peer ?? 0,
  }));
}

/**
 * Parses the lines of `ss -tuaxnHe`: `Netid State Recv-Q Send-Q Local Peer ...` and
 * `ino:N` for TCP/UDP; for UNIX, Local is `NAME INODE` and Peer `NAME INODE` (and
 * `ino:` is the file's inode, not the socket's).
 */
export function parseSsLines(lines: readonly string[]): SsRow[] {
  return lines.map((line) => {
    const t = line.trim().split(/\s+/);
    const [netid, state, recvQ, sendQ] = t as [string, string, string, string];
    if (netid.startsWith('u_')) {
      return {
        netid,
        state,
        recvQ: Number(recvQ),
        sendQ: Number(sendQ),
        local: t[4]!,
        inode: Number(t[5]),
        peer: t[6]!,
        peerInode: Number(t[7]),
      };
    }
    const ino = t.find((w) => w.startsWith('ino:'));
    if (!ino) throw new Error(`no ino: in ss line: ${line}`);
    return {
      netid,
      state,
      recvQ: Number(recvQ),
      sendQ: Number(sendQ),
      local: normaliseEndpoint(t[4]!),
      peer: normaliseEndpoint(t[5]!),
      inode: Number(ino.slice(4)),
    };
  });
}

/** What `ss -tinmHe` says about one TCP socket. */
export interface SsTcpInfo {
  inode: number;
  recvQ: number;
  sendQ: number;
  /** `wscale:SND,RCV`. */
  wscale?: [number, number];
  /** `rtt:RTT/RTTVAR` in milliseconds. */
  rtt?: [number, number];
  /** The `skmem:(r..,rb..,...)` values in their order. */
  skmem?: number[];
  /** Every word of the detail line, to look for the congestion control name. */
  words: string[];
}

/** Parses `ss -tinmHe`: each socket is a line and a detail line that starts with a tab. */
export function parseSsTcpInfo(text: string): Map<number, SsTcpInfo> {
  const out = new Map<number, SsTcpInfo>();
  let current: SsTcpInfo | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (!/^\s/.test(line)) {
      const t = line.trim().split(/\s+/);
      const ino = t.find((w) => w.startsWith('ino:'));
      current = { inode: Number(ino?.slice(4)), recvQ: Number(t[1]), sendQ: Number(t[2]), words: [] };
      out.set(current.inode, current);
      continue;
    }
    if (!current) continue;
    const words = line.trim().split(/\s+/);
    current.words.push(...words);
    for (const w of words) {
      let m: RegExpExecArray | null;
      if ((m = /^wscale:(\d+),(\d+)$/.exec(w))) current.wscale = [Number(m[1]), Number(m[2])];
      else if ((m = /^rtt:([\d.]+)\/([\d.]+)$/.exec(w))) current.rtt = [Number(m[1]), Number(m[2])];
      else if ((m = /^skmem:\((.*)\)$/.exec(w))) current.skmem = m[1]!.split(',').map((f) => Number(/\d+$/.exec(f)![0]));
    }
  }
  return out;
}
