/**
 * The detail fragments ss prints after a socket: `-e` (owner, inode, cookie, ...),
 * `-o` (timer), `-m` (socket memory) and `-i` (tcp_info and congestion control),
 * in ss's wording so that people and scripts that read ss can read these.
 */
import { decodeSockFilter, packetFanoutModeName, PdiFlags, SOCK_FILTER_SIZE, type PacketDiagRing, type PacketFanoutModeName } from '../generated/packet_diag.js';
import type { InetDiagSockopt } from '../generated/inet_diag.js';
import type { TcpInfo } from '../generated/tcp.js';
import { TcpiOptions } from '../generated/tcp.js';
import { SkMeminfo } from '../generated/sock_diag.js';
import { MINORBITS } from '../generated/unix_diag.js';
import type { NetlinkSocketInfo, PacketSocketInfo } from '../query/families.js';
import type { InetSocket, UnixSocket } from '../query/types.js';
import { spaced } from './strings.js';

/** `%g` as C prints it for the values ss shows (six significant digits, no trailing zeros). */
export function g(x: number): string {
  // Most values (whole milliseconds, rtt 0.023) print the same either way: skip toPrecision, which is slow.
  // Seven characters hold at most six digits when one of them is a point or a sign.
  const plain = String(x);
  if ((plain.length <= 6 || (plain.length === 7 && (plain.includes('.') || x < 0))) && !plain.includes('e')) return plain;
  return String(Number(x.toPrecision(6)));
}

/** Three decimals of milliseconds, as text: `.005`, `.05`, `.5` for 5, 50 and 500 microseconds; '' for none. */
const FRACTION: readonly string[] = Array.from({ length: 1000 }, (_, us) => (us ? String(us / 1000).slice(1) : ''));

/** `g(us / 1000)`: microseconds (a whole number) as milliseconds, `%g` as ss prints them (`rtt:0.023`). */
export function millis(us: number): string {
  // Below 1000 ms, the milliseconds and their three decimals are at most six significant digits: %g prints them all.
  if (us >= 0 && us < 1e6 && Number.isInteger(us)) return String(Math.floor(us / 1000)) + FRACTION[us % 1000];
  return g(us / 1000);
}

/** ss's timer text: `1min`, `12sec`, `3.210ms`-style, from milliseconds. */
export function msTimer(ms: number): string {
  const t = Math.max(0, ms);
  let secs = Math.floor(t / 1000);
  const minutes = Math.floor(secs / 60);
  secs %= 60;
  let msecs = t % 1000;
  let out = '';
  if (minutes) {
    msecs = 0;
    out += `${minutes}min`;
    if (minutes > 9) secs = 0;
  }
  if (secs) {
    if (secs > 9) msecs = 0;
    out += `${secs}${msecs ? '.' : 'sec'}`;
  }
  if (msecs) out += `${String(msecs).padStart(3, '0')}ms`;
  return out || '0ms';
}

const TIMER_LABEL: Record<string, string> = { off: 'off', on: 'on', keepalive: 'keepalive', timewait: 'timewait', probe0: 'persist', delack: 'delack' };

/** `-o`: `timer:(on,200ms,0)`, or '' when no timer is pending. */
export function timerText(s: InetSocket): string {
  if (s.timer === 'off') return '';
  return `timer:(${TIMER_LABEL[s.timer] ?? s.timer},${msTimer(s.expires)},${s.retrans})`;
}

/** `-e` for INET sockets: `uid:1000 ino:1234 sk:1a <->` and the optional attributes. */
export function extendedInet(s: InetSocket, cgroupPath?: (id: bigint) => string | undefined): string {
  const parts: string[] = [];
  if (s.uid) parts.push(`uid:${s.uid}`);
  parts.push(inodeCookieText(s.inode, s.cookie));
  if (s.mark) parts.push(`fwmark:0x${s.mark.toString(16)}`);
  if (s.cgroupId !== undefined) parts.push(cgroupText(s.cgroupId, cgroupPath));
  if (s.skv6only !== undefined && s.family === 'inet6') parts.push(`v6only:${s.skv6only}`);
  if (s.shutdown !== undefined) parts.push(shutdownArrows(s.shutdown));
  return parts.join(' ');
}

/** `ino:N sk:HEX`, the inode and the cookie as ss's -e prints them (INET and PACKET sockets). */
export function inodeCookieText(inode: number, cookie: bigint): string {
  return `ino:${inode} sk:${cookie.toString(16)}`;
}

/** `cgroup:PATH` (-e, --cgroup): the path under the cgroup2 mount, or the id when it has none. */
export function cgroupText(id: bigint, cgroupPath?: (id: bigint) => string | undefined): string {
  return `cgroup:${cgroupPath?.(id) ?? id.toString()}`;
}

/** C's `%#x`: `0x` and hex digits, but a bare `0` for zero. */
const sharpHex = (n: number): string => (n === 0 ? '0' : `0x${n.toString(16)}`);

/** `--tos`: `tos:0x10 tclass:0x20 class_id:0x6`, each when the kernel sent it, as ss prints them. */
export function tosText(s: InetSocket): string {
  const parts: string[] = [];
  if (s.tos !== undefined) parts.push(`tos:${sharpHex(s.tos)}`);
  if (s.tclass !== undefined) parts.push(`tclass:${sharpHex(s.tclass)}`);
  if (s.classId !== undefined) parts.push(`class_id:${sharpHex(s.classId)}`);
  return parts.join(' ');
}

/** ss's words for the options of INET_DIAG_SOCKOPT, in its order (bind_address_no_port it shortens). */
const SOCKOPT_WORDS: readonly [keyof InetDiagSockopt, string][] = [
  ['recverr', 'recverr'], ['isIcsk', 'is_icsk'], ['freebind', 'freebind'], ['hdrincl', 'hdrincl'], ['mcLoop', 'mc_loop'],
  ['transparent', 'transparent'], ['mcAll', 'mc_all'], ['nodefrag', 'nodefrag'], ['bindAddressNoPort', 'bind_addr_no_port'],
  ['recverrRfc4884', 'recverr_rfc4884'], ['deferConnect', 'defer_connect'],
];

/** `--inet-sockopt`: `inet-sockopt: ( recverr is_icsk mc_loop)`, the options that are on; '' without the attribute. */
export function sockoptText(s: InetSocket): string {
  const o = s.sockopt;
  return o ? `inet-sockopt: (${SOCKOPT_WORDS.map(([k, word]) => (o[k] ? ` ${word}` : '')).join('')})` : '';
}

/** `-e` for UNIX sockets, as ss prints it: shutdown arrows, the file's inode and device, pending peers. */
export function extendedUnix(s: UnixSocket): string {
  const parts: string[] = [];
  if (s.shutdown !== undefined) parts.push(shutdownArrows(s.shutdown));
  // The kernel's dev_t: the major number above MINORBITS bits of minor.
  if (s.vfs) parts.push(`ino:${s.vfs.udiagVfsIno} dev:${s.vfs.udiagVfsDev >>> MINORBITS}/${s.vfs.udiagVfsDev & (2 ** MINORBITS - 1)}`);
  // A listener reports its pending connections, possibly none: ss prints `peers:` then.
  if (s.icons) parts.push(['peers:', ...s.icons].join(' '));
  return parts.join(' ');
}

/** `<->`, with `-` for a direction that is shut down (bit 0: receive, bit 1: send). */
function shutdownArrows(mask: number): string {
  return `${mask & 1 ? '-' : '<'}-${mask & 2 ? '-' : '>'}`;
}

/** `-m`: `skmem:(r0,rb131072,t0,tb2626560,f0,w0,o0,bl0,d0)`. */
export function skmemText(mem: readonly number[] | undefined): string {
  if (!mem) return '';
  const labels: [keyof typeof SkMeminfo, string][] = [
    ['rmem-alloc', 'r'], ['rcvbuf', 'rb'], ['wmem-alloc', 't'], ['sndbuf', 'tb'], ['fwd-alloc', 'f'],
    ['wmem-queued', 'w'], ['optmem', 'o'], ['backlog', 'bl'], ['drops', 'd'],
  ];
  const parts = labels.filter(([k]) => SkMeminfo[k] < mem.length).map(([k, l]) => `${l}${mem[SkMeminfo[k]]}`);
  return `skmem:(${parts.join(',')})`;
}

/** A rate in bits per second as ss (iproute2 6.x) prints it: `21740306392bps`. */
function rate(bitsPerSecond: number): string {
  return `${Math.round(bitsPerSecond)}bps`;
}

/** The congestion control's own state (bbr, dctcp, vegas), where ss prints it: each part after a space. */
function congestionText(s: InetSocket): string {
  let out = '';
  if (s.bbrinfo) {
    const b = s.bbrinfo;
    const bw = (BigInt(b.bwHi) << 32n) | BigInt(b.bwLo);
    const gains = (b.pacingGain ? `,pacing_gain:${g(b.pacingGain / 256)}` : '') + (b.cwndGain ? `,cwnd_gain:${g(b.cwndGain / 256)}` : '');
    out += ` bbr:(bw:${rate(Number(bw) * 8)},mrtt:${millis(b.minRtt)}${gains})`;
  }
  if (s.dctcpinfo?.enabled) {
    const d = s.dctcpinfo;
    out += ` dctcp:(ce_state:${d.ceState},alpha:${d.alpha},ab_ecn:${d.abEcn},ab_tot:${d.abTot})`;
  } else if (s.dctcpinfo) out += ' dctcp:fallback_mode';
  if (s.vegasinfo?.enabled) {
    const v = s.vegasinfo;
    out += ` vegas:(rttcnt:${v.rttcnt},rtt:${millis(v.rtt)},minrtt:${millis(v.minrtt)})`;
  }
  return out;
}

/** The TCP options ss names (`ts sack ecn ecnseen fastopen`), by tcpi_options. */
const OPTION_WORDS: readonly string[] = Array.from({ length: 0x100 }, (_, opt) =>
  [
    opt & TcpiOptions.timestamps ? 'ts' : '',
    opt & TcpiOptions.sack ? 'sack' : '',
    opt & TcpiOptions.ecn ? 'ecn' : '',
    opt & TcpiOptions['ecn-seen'] ? 'ecnseen' : '',
    opt & TcpiOptions['syn-data'] ? 'fastopen' : '',
  ].reduce(spaced),
);

/** ` name:value` for a counter ss prints only when it is not zero; '' otherwise. */
function counter(label: string, v: number | bigint | undefined): string {
  return v ? label + v : '';
}

/**
 * `-i`: the tcp_info line, in ss's order and wording. ss names the TCP options
 * (`ts sack ...`) only with -e or -o: `options` says whether to.
 */
export function infoText(s: InetSocket, options = false): string {
  const i: TcpInfo | undefined = s.info;
  const head = spaced(i && options ? OPTION_WORDS[i.options & 0xff]! : '', s.cong ?? '');
  if (!i) return head;
  // Every part starts with its space, and the first one loses it at the end: slicing also
  // flattens the line while its 80-odd pieces are at hand, which makes it cheaper to write out.
  let out = head === '' ? '' : ' ' + head;
  if (i.options & TcpiOptions.wscale) out += ` wscale:${i.sndWscale},${i.rcvWscale}`;
  if (i.rto && i.rto !== 3000000) out += ' rto:' + millis(i.rto);
  out += counter(' backoff:', i.backoff);
  if (i.rtt) out += ' rtt:' + millis(i.rtt) + '/' + millis(i.rttvar);
  if (i.ato) out += ' ato:' + millis(i.ato);
  out += counter(' mss:', i.sndMss) + counter(' pmtu:', i.pmtu) + counter(' rcvmss:', i.rcvMss) + counter(' advmss:', i.advmss) + counter(' cwnd:', i.sndCwnd);
  if (i.sndSsthresh && i.sndSsthresh < 0xffff) out += ' ssthresh:' + i.sndSsthresh;
  out += counter(' bytes_sent:', i.bytesSent) + counter(' bytes_retrans:', i.bytesRetrans) + counter(' bytes_acked:', i.bytesAcked) + counter(' bytes_received:', i.bytesReceived);
  out += counter(' segs_out:', i.segsOut) + counter(' segs_in:', i.segsIn) + counter(' data_segs_out:', i.dataSegsOut) + counter(' data_segs_in:', i.dataSegsIn);
  out += congestionText(s);
  if (i.rtt && i.sndMss && i.sndCwnd) out += ' send ' + rate((i.sndCwnd * i.sndMss * 8 * 1e6) / i.rtt);
  out += counter(' lastsnd:', i.lastDataSent) + counter(' lastrcv:', i.lastDataRecv) + counter(' lastack:', i.lastAckRecv);
  if (i.pacingRate && i.pacingRate !== 0xffffffffffffffffn) {
    const max = i.maxPacingRate && i.maxPacingRate !== 0xffffffffffffffffn ? '/' + rate(Number(i.maxPacingRate) * 8) : '';
    out += ' pacing_rate ' + rate(Number(i.pacingRate) * 8) + max;
  }
  if (i.deliveryRate) out += ' delivery_rate ' + rate(Number(i.deliveryRate) * 8);
  out += counter(' delivered:', i.delivered);
  if (i.deliveryRateAppLimited) out += ' app_limited';
  if (i.busyTime) out += ` busy:${i.busyTime / 1000n}ms`;
  out += counter(' unacked:', i.unacked);
  if (i.retrans || i.totalRetrans) out += ` retrans:${i.retrans}/${i.totalRetrans}`;
  out += counter(' lost:', i.lost);
  // A listener's tcpi_sacked is its backlog, not SACKed segments.
  if (s.state !== 'listen') out += counter(' sacked:', i.sacked);
  out += counter(' dsack_dups:', i.dsackDups);
  if (i.reordering !== 3) out += ' reordering:' + i.reordering;
  out += counter(' reord_seen:', i.reordSeen);
  if (i.rcvRtt) out += ' rcv_rtt:' + millis(i.rcvRtt);
  out += counter(' rcv_space:', i.rcvSpace) + counter(' rcv_ssthresh:', i.rcvSsthresh) + counter(' notsent:', i.notsentBytes);
  if (i.minRtt && i.minRtt !== 0xffffffff) out += ' minrtt:' + millis(i.minRtt);
  out += counter(' rcv_ooopack:', i.rcvOoopack) + counter(' snd_wnd:', i.sndWnd) + counter(' rcv_wnd:', i.rcvWnd);
  return out.slice(1);
}

/** Fanout modes that ss names differently from the header (PACKET_FANOUT_ROLLOVER is `roll`). */
const FANOUT_LABEL: Partial<Record<PacketFanoutModeName, string>> = { rollover: 'roll', rnd: 'random' };
const ringText = (r: PacketDiagRing) =>
  `blk_size:${r.blockSize},blk_nr:${r.blockNr},frm_size:${r.frameSize},frm_nr:${r.frameNr},tmo:${r.retireTmo},features:0x${r.features.toString(16)}`;

/**
 * `-e` for a PACKET socket: the lines ss prints under it (settings and flags, then the
 * rings and the fanout group the socket has), in ss's words.
 */
export function packetDetails(s: PacketSocketInfo): string[] {
  const lines: string[] = [];
  if (s.info) {
    const f = s.info.flags;
    // ss's spacing: `flags( running auxdata )`, `flags(  loss )` without running, `flags( 0 )`.
    const names = (f & PdiFlags.running ? 'running' : '') + (['auxdata', 'origdev', 'vnethdr', 'loss'] as const).map((n) => (f & PdiFlags[n] ? ` ${n}` : '')).join('');
    lines.push(`ver:${s.info.version} cpy_thresh:${s.info.copyThresh} flags( ${names}${f === 0 ? '0' : ''} )`);
  }
  if (s.rxRing) lines.push(`ring_rx(${ringText(s.rxRing)})`);
  if (s.txRing) lines.push(`ring_tx(${ringText(s.txRing)})`);
  if (s.fanout) {
    const { id, mode } = s.fanout;
    const name = packetFanoutModeName(mode);
    lines.push(`fanout(id:${id},type:${name ? (FANOUT_LABEL[name] ?? name) : `0x${mode.toString(16)}`})`);
  }
  return lines;
}

/** `-b` for a PACKET socket: its classic BPF program, an instruction at a time, as ss prints it. */
export function bpfText(program: Uint8Array): string {
  const view = new DataView(program.buffer, program.byteOffset, program.byteLength);
  const count = Math.floor(program.length / SOCK_FILTER_SIZE);
  let text = `bpf filter (${count}): `;
  for (let i = 0; i < count; i++) {
    const op = decodeSockFilter(view, i * SOCK_FILTER_SIZE, SOCK_FILTER_SIZE);
    text += ` 0x${op.code.toString(16).padStart(2, '0')} ${op.jt} ${op.jf} ${op.k},`;
  }
  return text;
}

/** `-e` for a NETLINK socket, as ss prints it: `sk=0 cb=0` (sock_diag has neither) and the first word of its groups. */
export function extendedNetlink(s: NetlinkSocketInfo): string {
  return `sk=0 cb=0 groups=0x${(s.groups?.[0] ?? 0).toString(16).padStart(8, '0')}`;
}
