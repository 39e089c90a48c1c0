/**
 * Which dumps to run for a command line: tables, families and states, with ss's
 * defaults (connected sockets of every table when nothing is asked for).
 */
import type { InetDiagExtName, TcpStateName } from '../generated/inet_diag.js';
import type { UdiagShowName } from '../generated/unix_diag.js';
import type { CliOptions, Table } from './args.js';
import { ALL_STATES, DEFAULT_STATES } from './states.js';

/** One dump to run. */
export interface Dump {
  table: Table;
  /** For INET tables: the families to ask for. */
  families: ('inet' | 'inet6')[];
  states: TcpStateName[];
  ext: InetDiagExtName[];
  /** For UNIX: what to ask the kernel for beside the fixed header; undefined for all of it. */
  show?: UdiagShowName[];
}

/** The order ss lists its tables in (smc, which ss does not list, last). */
const OUTPUT_ORDER: readonly Table[] = ['netlink', 'packet', 'unix', 'raw', 'udp', 'tcp', 'sctp', 'vsock', 'tipc', 'xdp', 'mptcp', 'smc'];
/** The tables ss (iproute2 6.1) lists when no table flag is given, less DCCP, which sockdiag does not list. */
export const DEFAULT_TABLES: readonly Table[] = ['tcp', 'udp', 'raw', 'unix', 'packet', 'netlink', 'sctp', 'mptcp'];
/** Tables whose sockets have no connection state; ss lists them with the closed ones. */
export const STATELESS_TABLES: readonly Table[] = ['packet', 'netlink', 'xdp', 'smc', 'tipc'];
/** Tables that are not INET, and have no address family to select with -4/-6. */
const OTHER_TABLES: readonly Table[] = ['unix', 'packet', 'netlink', 'xdp', 'vsock', 'smc', 'tipc'];

/** The dumps a command line asks for, in output order. */
export function planDumps(o: CliOptions): Dump[] {
  const explicit = o.tables.size > 0;
  let tables = explicit ? [...o.tables] : [...DEFAULT_TABLES];
  if (o.families.size > 0) {
    tables = tables.filter((t) => (OTHER_TABLES.includes(t) ? t === 'unix' && o.families.has('unix') : o.families.has('inet') || o.families.has('inet6')));
    if (!explicit && o.families.has('unix') && !tables.includes('unix')) tables.push('unix');
  }
  const families = (['inet', 'inet6'] as const).filter((f) => o.families.size === 0 || o.families.has(f) || !(o.families.has('inet') || o.families.has('inet6')));
  return OUTPUT_ORDER.filter((t) => tables.includes(t)).map((table) => ({
    table,
    families: OTHER_TABLES.includes(table) ? [] : families,
    states: statesFor(table, o),
    ext: extFor(table, o),
    ...(table === 'unix' ? { show: showFor(o) } : {}),
  }));
}

/**
 * What a UNIX dump asks for: for text, what the columns and flags print (the name and
 * the peer's, the queues; -e the file and the pending connections; -m the memory), as
 * ss asks; everything for JSON, which prints every field. Attributes not asked for cost
 * the kernel, the decoder and the garbage collector (a dump of 18,000 sockets: 11 ms).
 */
function showFor(o: CliOptions): UdiagShowName[] | undefined {
  if (o.output !== 'text') return undefined;
  const show: UdiagShowName[] = ['name', 'peer', 'rqlen'];
  if (o.extended) show.push('vfs', 'icons');
  if (o.memory) show.push('meminfo');
  return show;
}

/**
 * The states to list, as ss chooses them: asked-for states; all (-a); listening and
 * unconnected (-l); connected sockets of every table when no table was named; and
 * each named table's own default (ss's default_dbs) otherwise.
 */
function statesFor(table: Table, o: CliOptions): TcpStateName[] {
  let states: TcpStateName[];
  if (o.states) states = o.states;
  else if (o.all) states = [...ALL_STATES];
  else if (o.listening) states = ['listen', 'close'];
  else if (o.tables.size === 0) states = [...DEFAULT_STATES];
  else if (table === 'udp' || table === 'raw') states = ['established'];
  // Packet and netlink sockets have no connection state; ss counts them as closed.
  else if (STATELESS_TABLES.includes(table)) states = ['close'];
  else states = [...DEFAULT_STATES];
  // Request sockets (SYN received, not yet accepted) are reported as syn-recv.
  if (states.includes('syn-recv') && !OTHER_TABLES.includes(table)) states = [...states, 'new-syn-recv'];
  return states;
}

function extFor(table: Table, o: CliOptions): InetDiagExtName[] {
  if (OTHER_TABLES.includes(table)) return [];
  const ext: InetDiagExtName[] = [];
  if (o.info) ext.push('info', 'cong', 'vegasinfo');
  if (o.memory) ext.push('skmeminfo');
  if (o.info || o.memory) ext.push('meminfo');
  if (o.extended || o.info) ext.push('shutdown');
  // TCLASS also brings INET_DIAG_CLASS_ID, which --tos prints.
  if (o.extended || o.tos) ext.push('tos', 'tclass');
  return [...new Set(ext)];
}
