/**
 * Command-line arguments: `ss`'s flags and positional `state`/`exclude` words and
 * filter expression, turned into {@link CliOptions}. Bad input throws
 * {@link UsageError}, which the command prints as one line and exits 2 on.
 */
import { parseArgs } from 'node:util';
import type { TcpStateName } from '../generated/inet_diag.js';
import { ALL_STATES, STATE_WORDS } from './states.js';

/** A socket table the command can list. */
export type Table = 'tcp' | 'udp' | 'raw' | 'mptcp' | 'sctp' | 'unix' | 'packet' | 'netlink' | 'xdp' | 'vsock' | 'smc' | 'tipc';

/** What the user asked for. */
export interface CliOptions {
  /** Tables asked for by flag; empty means ss's default set. */
  tables: Set<Table>;
  /** For tables asked for by socket type (`-A unix_dgram`): the types to list. */
  socketTypes: Map<Table, Set<string>>;
  /** Address families asked for (`-4`, `-6`, `-f`); empty means all. */
  families: Set<'inet' | 'inet6' | 'unix'>;
  listening: boolean;
  all: boolean;
  /** States from `state`/`exclude` words; undefined when none were given. */
  states?: TcpStateName[];
  extended: boolean;
  info: boolean;
  memory: boolean;
  timers: boolean;
  /** -O: the -i and -m details at the end of the row's line instead of on a line under it. */
  oneline: boolean;
  processes: boolean;
  /** -b: a PACKET socket's classic BPF program. */
  bpf: boolean;
  /** --tos: an INET socket's TOS, traffic class and class id. */
  tos: boolean;
  /** --cgroup: an INET socket's cgroup. */
  cgroup: boolean;
  /** --inet-sockopt: an INET socket's boolean socket options. */
  inetSockopt: boolean;
  /** -T: the processes' threads, each with its id (implies -p). */
  threads: boolean;
  resolve: boolean;
  header: boolean;
  summary: boolean;
  output: 'text' | 'json' | 'ndjson';
  netns?: string;
  /** Filter expression tokens, as ss takes them (joined with spaces). */
  filter: string[];
  /** -F: a file (`-`: standard input) whose lines continue the filter expression. */
  filterFile?: string;
  /** -D: write the kernel's TCP replies to this file (`-`: standard output) instead of a listing. */
  diagFile?: string;
  /** Print how the filter is compiled instead of listing sockets. */
  explain: boolean;
  /** Destroy the sockets listed (SOCK_DESTROY), as `ss -K`. */
  kill: boolean;
  /** Watch destroy events instead of listing sockets. */
  events: boolean;
  help: boolean;
  version: boolean;
}

/** A mistake in the command line; the message names it. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The flags, for the parser and for `--help` (see help.ts). */
export const FLAGS = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
  numeric: { type: 'boolean', short: 'n' },
  resolve: { type: 'boolean', short: 'r' },
  all: { type: 'boolean', short: 'a' },
  listening: { type: 'boolean', short: 'l' },
  options: { type: 'boolean', short: 'o' },
  extended: { type: 'boolean', short: 'e' },
  memory: { type: 'boolean', short: 'm' },
  processes: { type: 'boolean', short: 'p' },
  threads: { type: 'boolean', short: 'T' },
  bpf: { type: 'boolean', short: 'b' },
  tos: { type: 'boolean' },
  cgroup: { type: 'boolean' },
  'inet-sockopt': { type: 'boolean' },
  info: { type: 'boolean', short: 'i' },
  oneline: { type: 'boolean', short: 'O' },
  summary: { type: 'boolean', short: 's' },
  ipv4: { type: 'boolean', short: '4' },
  ipv6: { type: 'boolean', short: '6' },
  tcp: { type: 'boolean', short: 't' },
  udp: { type: 'boolean', short: 'u' },
  raw: { type: 'boolean', short: 'w' },
  unix: { type: 'boolean', short: 'x' },
  mptcp: { type: 'boolean', short: 'M' },
  sctp: { type: 'boolean', short: 'S' },
  packet: { type: 'boolean', short: '0' },
  netlink: { type: 'boolean' },
  xdp: { type: 'boolean' },
  vsock: { type: 'boolean' },
  smc: { type: 'boolean' },
  tipc: { type: 'boolean' },
  family: { type: 'string', short: 'f', multiple: true },
  query: { type: 'string', short: 'A', multiple: true },
  net: { type: 'string', short: 'N' },
  filter: { type: 'string', short: 'F', multiple: true },
  diag: { type: 'string', short: 'D' },
  'no-header': { type: 'boolean', short: 'H' },
  json: { type: 'boolean' },
  ndjson: { type: 'boolean' },
  explain: { type: 'boolean' },
  kill: { type: 'boolean', short: 'K' },
  events: { type: 'boolean', short: 'E' },
} as const;

const QUERY_TABLES: Record<string, Table[]> = {
  all: ['tcp', 'udp', 'raw', 'mptcp', 'sctp', 'unix', 'packet', 'netlink', 'xdp', 'vsock', 'smc', 'tipc'],
  inet: ['tcp', 'udp', 'raw', 'mptcp', 'sctp'],
  tcp: ['tcp'],
  udp: ['udp'],
  raw: ['raw'],
  mptcp: ['mptcp'],
  sctp: ['sctp'],
  unix: ['unix'],
  unix_stream: ['unix'],
  unix_dgram: ['unix'],
  unix_seqpacket: ['unix'],
  packet: ['packet'],
  packet_raw: ['packet'],
  packet_dgram: ['packet'],
  netlink: ['netlink'],
  xdp: ['xdp'],
  vsock: ['vsock'],
  vsock_stream: ['vsock'],
  vsock_dgram: ['vsock'],
  smc: ['smc'],
  tipc: ['tipc'],
};
/** -A words that name one socket type of a table. */
const QUERY_TYPES: Record<string, string> = {
  unix_stream: 'stream', unix_dgram: 'dgram', unix_seqpacket: 'seqpacket', packet_raw: 'raw', packet_dgram: 'dgram', vsock_stream: 'stream', vsock_dgram: 'dgram',
};
const FAMILY_WORDS = { inet: 'inet', inet6: 'inet6', unix: 'unix', local: 'unix' } as const;

/** Parses argv (without the node and script paths). */
export function parseCli(argv: readonly string[]): CliOptions {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: FLAGS, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(cleanParseError((e as Error).message));
  }
  const v = parsed.values;
  const tables = new Set<Table>();
  const flagTables: [boolean | undefined, Table][] = [
    [v.tcp, 'tcp'], [v.udp, 'udp'], [v.raw, 'raw'], [v.unix, 'unix'], [v.mptcp, 'mptcp'], [v.sctp, 'sctp'], [v.packet, 'packet'], [v.netlink, 'netlink'],
    [v.xdp, 'xdp'], [v.vsock, 'vsock'], [v.smc, 'smc'], [v.tipc, 'tipc'],
  ];
  for (const [on, t] of flagTables) if (on) tables.add(t);
  // Socket types asked for by -A unix_dgram and the like; a table named whole takes every type.
  const types = new Map<Table, Set<string> | 'all'>();
  for (const t of tables) types.set(t, 'all');
  for (const q of (v.query ?? []).flatMap((x) => x.split(','))) {
    const ts = QUERY_TABLES[q];
    if (!ts) throw new UsageError(`unknown socket table '${q}' for -A (expected one of: ${Object.keys(QUERY_TABLES).join(', ')})`);
    for (const t of ts) {
      tables.add(t);
      const type = QUERY_TYPES[q];
      const known = types.get(t);
      if (type === undefined) types.set(t, 'all');
      else if (known !== 'all') types.set(t, new Set([...(known ?? []), type]));
    }
  }
  const families = new Set<'inet' | 'inet6' | 'unix'>();
  if (v.ipv4) families.add('inet');
  if (v.ipv6) families.add('inet6');
  for (const f of v.family ?? []) {
    const fam = FAMILY_WORDS[f as keyof typeof FAMILY_WORDS];
    if (!fam) throw new UsageError(`unknown family '${f}' for -f (expected one of: ${Object.keys(FAMILY_WORDS).join(', ')})`);
    families.add(fam);
  }
  if (v.json && v.ndjson) throw new UsageError('--json and --ndjson cannot be used together');
  // A name is a file in /run/netns (a path has a slash): '', '.' and '..' name none.
  if (v.net !== undefined && (v.net === '' || v.net === '.' || v.net === '..')) throw new UsageError(`not a network namespace name: '${v.net}' for -N`);
  const { states, filter } = splitPositionals(parsed.positionals);
  if ((v.filter?.length ?? 0) > 1) throw new UsageError('-F/--filter names more than one filter file');
  if (v.kill && filter.length === 0 && !v.filter && !states && !v.all) {
    throw new UsageError('-K destroys every socket listed: give a filter or state, or -a/--all to mean every socket');
  }
  for (const t of ['unix', 'packet', 'netlink', 'xdp', 'vsock', 'smc', 'tipc'] as const) if (v.kill && tables.has(t)) throw new UsageError(`-K works on TCP and UDP sockets, not ${t} ones`);
  return {
    tables,
    socketTypes: new Map([...types].flatMap(([t, set]) => (set === 'all' ? [] : [[t, set] as const]))),
    families,
    listening: v.listening ?? false,
    all: v.all ?? false,
    states,
    extended: v.extended ?? false,
    info: v.info ?? false,
    memory: v.memory ?? false,
    timers: v.options ?? false,
    oneline: v.oneline ?? false,
    processes: (v.processes ?? false) || (v.threads ?? false),
    threads: v.threads ?? false,
    bpf: v.bpf ?? false,
    tos: v.tos ?? false,
    cgroup: v.cgroup ?? false,
    inetSockopt: v['inet-sockopt'] ?? false,
    resolve: (v.resolve ?? false) && !v.numeric,
    header: !v['no-header'],
    summary: v.summary ?? false,
    output: v.json ? 'json' : v.ndjson ? 'ndjson' : 'text',
    netns: v.net,
    filter,
    filterFile: v.filter?.[0],
    diagFile: v.diag,
    explain: v.explain ?? false,
    kill: v.kill ?? false,
    events: v.events ?? false,
    help: v.help ?? false,
    version: v.version ?? false,
  };
}

/** Takes the leading `state NAME` / `exclude NAME` pairs; the rest is the filter expression. */
function splitPositionals(words: string[]): { states?: TcpStateName[]; filter: string[] } {
  let states: Set<TcpStateName> | undefined;
  let i = 0;
  while (i < words.length && (words[i] === 'state' || words[i] === 'exclude')) {
    const verb = words[i]!;
    const name = words[i + 1];
    if (name === undefined) throw new UsageError(`'${verb}' needs a state name (one of: ${Object.keys(STATE_WORDS).join(', ')})`);
    const group = STATE_WORDS[name];
    if (!group) throw new UsageError(`unknown state '${name}' after '${verb}' (expected one of: ${Object.keys(STATE_WORDS).join(', ')})`);
    if (verb === 'state') {
      states ??= new Set();
      group.forEach((s) => states!.add(s));
    } else {
      states ??= new Set(ALL_STATES);
      group.forEach((s) => states!.delete(s));
    }
    i += 2;
  }
  return { states: states && ALL_STATES.filter((s) => states!.has(s)), filter: words.slice(i) };
}

/** Node's parseArgs messages, shortened to one line. */
function cleanParseError(message: string): string {
  const first = message.split('\n')[0]!.replace(/\. To specify a positional argument.*$/, '');
  return `${first.replace(/^Unknown option/, 'unknown option')} (see --help)`;
}
