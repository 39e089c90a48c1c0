/**
 * The `sockdiag` command: arguments, then queries through the library, then a
 * formatter (text table, JSON, NDJSON or summary).
 */
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { IpProtocol, socketTypeName } from '../generated/socket.js';
import { DecodeError } from '../runtime/codec.js';
import { DestroyUnsupportedError } from '../query/destroy.js';
import { createMatcher, describePlan, explainBytecode, formatFilter, planFilter, type FilterNode } from '../query/filter/index.js';
import type { FamilyName } from '../query/families.js';
import type { InetProtocol } from '../query/types.js';
import { watch } from '../query/watch.js';
import { escapeControls } from '../query/display.js';
import { NoDiagSupportError, SockDiag } from '../query/session.js';
import type { InetSocket, UnixSocket } from '../query/types.js';
import { NetlinkError, SyscallError } from '../runtime/errors.js';
import { interfaceName } from '../runtime/interfaces.js';
import type { NetnsSpec } from '../runtime/netns.js';
import { parseCli, UsageError, type CliOptions } from './args.js';
import { commandFilter } from './command-filter.js';
import { HELP } from './help.js';
import { JsonWriter } from './json.js';
import { ClosedOutput, Output, OutputFailed } from './output.js';
import { cgroupPaths } from './cgroups.js';
import { DEFAULT_TABLES, planDumps, STATELESS_TABLES, type Dump } from './plan.js';
import { socketUsers } from './processes.js';
import { writeRawDump } from './raw-dump.js';
import { inetRow, inodeOf, netid, netlinkRow, otherRow, packetRow, stateOf, unixRow, type AnySocket, type OtherSocket, type RowContext } from './rows.js';
import { Services } from './services.js';
import { Summary } from './summary.js';
import { TextTable } from './text.js';

/** Where the rows go. */
interface Sink {
  add(table: Dump['table'], s: AnySocket): void;
  /**
   * The dump of `table` is over (UNIX rows wait for it, to show peers' names). `names`:
   * every UNIX socket's name by inode, when a filter let only some of them be added.
   */
  tableDone(table: Dump['table'], names?: ReadonlyMap<number, string>): void;
  /** Hands what was added so far to standard output, now (for events). */
  flush(): void;
  end(): void;
}

/** Where run() writes; exported so that the code-cache writer can pass one of the bundle's own. */
export { Output };

/** Runs the command; returns the exit status. */
export async function run(argv: readonly string[], out = new Output(), errLine: (line: string) => void = (line) => process.stderr.write(`sockdiag: ${line}\n`)): Promise<number> {
  // Messages echo what the user typed and what the kernel named: keep them one line, with no terminal controls.
  const err = (line: string) => errLine(escapeControls(line));
  try {
    return await command(argv, out, err);
  } catch (e) {
    if (!(e instanceof OutputFailed)) throw e;
    err(e.message);
    return 1;
  }
}

async function command(argv: readonly string[], out: Output, err: (line: string) => void): Promise<number> {
  let o: CliOptions;
  try {
    o = parseCli(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      err(e.message);
      return 2;
    }
    throw e;
  }
  if (o.help) {
    out.write(HELP);
    out.flush();
    return 0;
  }
  if (o.version) {
    out.write(`sockdiag ${version()}\n`);
    out.flush();
    return 0;
  }
  const dumps = planDumps(o);
  let filter: FilterNode | null;
  try {
    // As ss: when only UNIX sockets are listed, src/dst values are UNIX name patterns.
    filter = commandFilter(o, dumps.length > 0 && dumps.every((d) => d.table === 'unix'));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(e.message);
    return 2;
  }
  if (o.diagFile !== undefined && !dumps.some((d) => d.table === 'tcp')) {
    err('-D writes TCP sockets, and the command line lists none');
    return 2;
  }
  if (o.explain) {
    out.write(explain(filter, dumps));
    out.flush();
    return 0;
  }
  const netns = o.netns === undefined ? undefined : namespaceSpec(o.netns);
  if (o.events) return watchEvents(o, netns, filter, out, err);
  let diag: SockDiag;
  try {
    diag = SockDiag.open({ netns });
  } catch (e) {
    if (!(e instanceof SyscallError)) throw e;
    // Opening the namespace's file and entering it are the namespace's; the rest (socket, bind, ...) the socket's.
    if (netns && (e.syscall === 'open' || e.syscall === 'setns')) {
      const why = {
        ENOENT: 'does not exist',
        EPERM: 'cannot be entered: no permission (it needs CAP_SYS_ADMIN; run as root)',
        EACCES: 'cannot be opened: permission denied',
        EINVAL: 'is not a network namespace',
      }[e.code];
      err(`network namespace '${o.netns}' ${why ?? `cannot be entered: ${e.message}`}`);
      return 2;
    }
    err(`cannot open a NETLINK_SOCK_DIAG socket: ${e.message}`);
    return 1;
  }
  if (o.diagFile !== undefined) return rawDump(diag, o.diagFile, dumps, filter, out, err);
  let status = 0;
  try {
    const sink = makeSink(o, dumps, out, netns);
    for (const d of dumps) {
      try {
        const names = dump(diag, d, withType(sink, o.socketTypes.get(d.table)), filter, o.kill, err);
        sink.tableDone(d.table, names);
      } catch (e) {
        if (!(e instanceof NoDiagSupportError)) throw e;
        // The kernel has no diag module for this table: an error when asked for; skipped
        // quietly, as ss does, when the table is only one of the defaults.
        if (o.tables.size > 0 || !DEFAULT_TABLES.includes(d.table)) {
          status = 1;
          err(e.message);
        }
      }
    }
    sink.end();
    out.flush();
  } catch (e) {
    if (e instanceof ClosedOutput) return 0;
    if (e instanceof NetlinkError || e instanceof SyscallError || e instanceof DestroyUnsupportedError || e instanceof DecodeError) {
      err(e.message);
      return 1;
    }
    throw e;
  } finally {
    diag.close();
  }
  return status;
}

/**
 * Adds the sockets of one dump to `sink`. Returns the names of all its UNIX sockets when a
 * filter kept only some, so that the kept ones can still show their peers' names.
 */
function dump(diag: SockDiag, d: Dump, sink: Sink, filter: FilterNode | null, kill: boolean, err: (line: string) => void): Map<number, string> | undefined {
  // Besides INET sockets, the filter language tests UNIX sockets (by name); no other socket matches one.
  if (d.table === 'unix') {
    if (kill) return;
    if (!filter) {
      for (const s of diag.unix({ states: d.states, show: d.show })) sink.add('unix', s);
      return;
    }
    // `dst` tests the peer's name, so the whole dump comes first.
    const sockets = [...diag.unix({ states: d.states, show: d.show })];
    const names = unixNames(sockets);
    const match = createMatcher(filter);
    for (const s of sockets) {
      const peer = s.peer ?? 0;
      if (match({ family: 'unix', src: s.path ?? '', dst: names.get(peer) ?? '', sport: s.inode, dport: peer, ifindex: 0 })) sink.add('unix', s);
    }
    return names;
  }
  if (d.table === 'vsock' || STATELESS_TABLES.includes(d.table)) {
    // Stateless sockets are listed with the closed ones, as ss does.
    if (filter || kill || (d.table !== 'vsock' && !d.states.includes('close'))) return;
    for (const s of diag.sockets(d.table as FamilyName)) sink.add(d.table, s);
    return;
  }
  // Both families as one query: the library asks TCP sockets of both in one request, which the
  // kernel answers in one walk of its tables where ss makes two (one per family).
  const families = d.families.length === 2 ? (['all'] as const) : d.families;
  for (const family of families) {
    const q = { family, protocol: d.table as InetProtocol, states: d.states, ext: d.ext, filter: filter ?? undefined };
    if (!kill) {
      for (const s of diag.inet(q)) sink.add(d.table, s);
      continue;
    }
    // -K lists what it destroyed, as ss -K does.
    for (const r of diag.destroy({ ...q, all: true })) {
      if (r.error) err(`could not destroy ${r.socket.src}:${r.socket.sport} -> ${r.socket.dst}:${r.socket.dport}: ${r.error.code}`);
      else sink.add(d.table, r.socket);
    }
  }
}

/** `-E`: prints each socket the kernel destroys, as it happens, until interrupted. */
async function watchEvents(o: CliOptions, netns: NetnsSpec | undefined, filter: FilterNode | null, out: Output, err: (line: string) => void): Promise<number> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const match = filter ? createMatcher(filter) : () => true;
  const protocols = (['tcp', 'udp'] as const).filter((p) => o.tables.size === 0 || o.tables.has(p));
  const families = (['inet', 'inet6'] as const).filter((f) => o.families.size === 0 || o.families.has(f));
  const sink = makeSink(o, [{ table: 'tcp', families: [...families], states: [], ext: [] }, { table: 'udp', families: [], states: [], ext: [] }], out, netns, 1);
  // Events are written EVENT_FLUSH_MS after the first one not yet written: one write for a burst, not one per event.
  let flushing: NodeJS.Timeout | undefined;
  /** Why output stopped, when a write in the timer failed: thrown once the watch has stopped. */
  let stopped: ClosedOutput | OutputFailed | undefined;
  const flushSoon = () => {
    flushing ??= setTimeout(() => {
      flushing = undefined;
      try {
        sink.flush();
      } catch (e) {
        if (!(e instanceof ClosedOutput || e instanceof OutputFailed)) throw e;
        stopped = e;
        stop.abort();
      }
    }, EVENT_FLUSH_MS);
  };
  try {
    // As ss -E does, a burst of events beyond the receive buffer is reported, and the watch goes on.
    const onOverflow = () => err('events were lost: they came faster than they were read (ENOBUFS)');
    for await (const s of watch({ netns, protocols, families, signal: stop.signal, onOverflow })) {
      if (!match(s)) continue;
      sink.add(s.protocol === IpProtocol.udp ? 'udp' : 'tcp', s);
      flushSoon();
    }
    if (stopped) throw stopped;
    sink.end();
    out.flush();
    return 0;
  } catch (e) {
    if (e instanceof ClosedOutput) return 0;
    if (e instanceof SyscallError || e instanceof NetlinkError) {
      err(e.code === 'EPERM' ? 'watching destroy events needs CAP_NET_ADMIN (run as root)' : e.message);
      return 1;
    }
    throw e;
  } finally {
    clearTimeout(flushing);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** How long an event waits to be written with those that follow it (`-E`). */
const EVENT_FLUSH_MS = 5;

/** `-D FILE`: the kernel's TCP replies, raw; one line on stderr and status 1 or 2 when that cannot be done. */
function rawDump(diag: SockDiag, path: string, dumps: Dump[], filter: FilterNode | null, out: Output, err: (line: string) => void): number {
  try {
    writeRawDump(diag, dumps, filter, path, out);
    return 0;
  } catch (e) {
    if (e instanceof ClosedOutput) return 0;
    if (e instanceof OutputFailed && path !== '-') {
      err(e.message);
      return 2;
    }
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && !(e instanceof SyscallError)) {
      err(`cannot write '${path}': ${code}`);
      return 2;
    }
    if (e instanceof NetlinkError || e instanceof SyscallError) {
      err(e.message);
      return 1;
    }
    throw e;
  } finally {
    diag.close();
  }
}

/** `--explain`: where the filter runs, and the kernel's program as readable ops. */
function explain(filter: FilterNode | null, dumps: readonly Dump[]): string {
  if (!filter) return 'no filter\n';
  const lines = [`filter: ${formatFilter(filter)}`];
  // UNIX dumps take no kernel filter: every socket comes back and is tested here.
  const unix = dumps.some((d) => d.table === 'unix');
  if (unix) lines.push('UNIX sockets: all dumped, the filter tested here');
  if (dumps.every((d) => d.table === 'unix')) return lines.join('\n') + '\n';
  const plan = planFilter(filter);
  const program = plan.bytecode ? explainBytecode(plan.bytecode) : [];
  return [...lines, `${unix ? 'INET sockets: ' : ''}${describePlan(plan)}`, ...(program.length ? ['INET_DIAG_REQ_BYTECODE:', ...program] : [])].join('\n') + '\n';
}

function makeSink(o: CliOptions, dumps: Dump[], out: Output, netns: NetnsSpec | undefined, sizingRows?: number): Sink {
  const users = o.processes ? socketUsers('/proc', o.threads) : undefined;
  if (o.summary) {
    const summary = new Summary();
    return {
      add: (table, s) => summary.add(netid(table, s), stateOf(s)),
      tableDone: () => {},
      flush: () => out.flush(),
      end: () => (o.output === 'text' ? summary.print(out) : out.write(JSON.stringify(summary.toJSON()) + '\n')),
    };
  }
  if (o.output !== 'text') {
    const json = new JsonWriter(out, o.output === 'ndjson');
    return {
      add: (table, s) => json.add(netid(table, s), s, users?.get(inodeOf(s))),
      tableDone: () => {},
      flush: () => {
        json.flush();
        out.flush();
      },
      end: () => json.end(),
    };
  }
  const ctx: RowContext = { options: o, services: o.resolve ? new Services() : undefined, users, ifname: interfaceNames(netns), cgroupPath: cgroupPaths() };
  const tableCount = dumps.reduce((n, d) => n + (d.table === 'unix' ? 3 : d.table === 'packet' ? 2 : 1), 0);
  const distinctStates = new Set(dumps.flatMap((d) => d.states.filter((s) => s !== 'new-syn-recv')));
  const text = new TextTable(out, { netid: tableCount > 1, state: distinctStates.size > 1 || dumps.every((d) => d.states.length === 0), header: o.header, oneline: o.oneline }, sizingRows);
  // UNIX rows wait for the whole UNIX dump, so that a peer's name can be shown.
  let unixRows: UnixSocket[] = [];
  const printUnixRows = (names?: ReadonlyMap<number, string>) => {
    ctx.unixNames = names ?? unixNames(unixRows);
    for (const s of unixRows) text.add(unixRow(s, ctx));
    unixRows = [];
  };
  return {
    add: (table, s) => {
      if (s.family === 'unix') unixRows.push(s);
      else if (s.family === 'netlink') text.add(netlinkRow(s, ctx));
      else if (s.family === 'packet') text.add(packetRow(s, ctx));
      else if (s.family === 'inet' || s.family === 'inet6') text.add(inetRow(table, s, ctx));
      else text.add(otherRow(table, s as OtherSocket, ctx));
    },
    tableDone: (table, names) => {
      if (table === 'unix') printUnixRows(names);
    },
    flush: () => out.flush(),
    end: () => text.end(),
  };
}

/** Passes on only sockets of the given types (for -A unix_dgram and the like). */
function withType(sink: Sink, types: Set<string> | undefined): Sink {
  if (!types) return sink;
  const typeOf = (s: AnySocket) => (s.family === 'unix' ? s.type : s.family === 'packet' ? socketTypeName(s.pdiagType) : undefined);
  return { add: (table, s) => types.has(typeOf(s) ?? '') && sink.add(table, s), tableDone: (table, names) => sink.tableDone(table, names), flush: () => sink.flush(), end: () => sink.end() };
}

/** UNIX sockets' names (as printed) by inode. */
function unixNames(sockets: readonly UnixSocket[]): Map<number, string> {
  return new Map(sockets.filter((s) => s.path !== undefined).map((s) => [s.inode, s.path!]));
}

/** `-N NAME` names a namespace in /run/netns; anything with a slash is a path. */
function namespaceSpec(arg: string): NetnsSpec {
  return arg.includes('/') ? { path: arg } : { name: arg };
}

/** Interface names by index, in the namespace asked about, looked up once each. */
function interfaceNames(netns: NetnsSpec | undefined): (index: number) => string {
  const names = new Map<number, string>();
  return (index) => {
    let name = names.get(index);
    if (name === undefined) names.set(index, (name = escapeControls(interfaceName(index, netns) ?? String(index))));
    return name;
  };
}

/** The package version (package.json sits one level above cli/, or two above dist/cli/). */
function version(): string {
  for (const up of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'sockdiag') return pkg.version;
    } catch {
      // Not here; try the next level.
    }
  }
  return 'unknown';
}

// Run as a file of its own (dist/cli/main.js, or tsx cli/main.ts). The bin instead loads the bundle
// (dist/bin/command.cjs) through its launcher, which calls run(). No top-level await: the bundle
// is CommonJS, which starts faster.
if (process.argv[1] && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) {
  void run(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
