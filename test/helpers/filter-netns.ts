/**
 * Fixtures of the kernel-filter tests (test/filter-kernel): a private network namespace
 * `sockdiag-flt-<pid>-<random>` with IPv4 and IPv6 addresses, the static socket set of
 * filter-sockets.py open inside it, `ss` run inside it, and the mapping of the
 * library's records to the `LOCAL PEER` text ss prints.
 *
 * (test/helpers/netns.ts names its namespaces `sockdiag-q-*` and its holders open
 * sockets one request at a time; this set needs a fixed namespace name, devices,
 * marks, v6only and about 450 sockets opened in one go, so it has its own script.)
 */
import { execFileSync, spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { InetSocket } from '../../query/index.js';
import { hasCommand, isRoot, REPO } from './netns.js';

/** The veth device of the namespace that holds 10.77.0.1/24, fd00::1/64 and fd00::2/64. */
export const DEVICE = 'flt0';

/** Why the kernel-filter tests cannot run here, or undefined when they can. */
export function filterKernelSkipReason(): string | undefined {
  if (!isRoot) return 'needs root (creates a network namespace with `ip netns add`, sets SO_MARK)';
  for (const command of ['ip', 'ss', 'python3']) if (!hasCommand(command)) return `needs \`${command}\``;
  return undefined;
}

/** One socket of the set, as filter-sockets.py describes it. */
export interface SetSocket {
  proto: 'tcp' | 'udp';
  family: 4 | 6;
  inode: number;
  local: [string, number];
  peer: [string, number] | null;
  /** The kernel's `autobound`: no explicit port was bound (SOCK_BINDPORT_LOCK unset). */
  autobound: boolean;
  role: string;
}

/** The namespace with the socket set open in it. */
export interface FilterWorld {
  readonly name: string;
  readonly netns: { name: string };
  readonly sockets: readonly SetSocket[];
  /** The namespace's net.ipv4.ip_local_port_range, as the socket holder read it. */
  readonly ephemeral: readonly [number, number];
  /** Interface index -> name inside the namespace. */
  readonly ifnames: ReadonlyMap<number, string>;
  /** Interface name -> index inside the namespace (the look-up the kernel and ss use). */
  ifindex(name: string): number | undefined;
  /** Runs a command inside the namespace; its standard output. */
  exec(cmd: string, args: readonly string[]): string;
  /** `ss -tanH EXPR` / `ss -uanH EXPR` inside the namespace, each socket as `LOCAL PEER`. */
  ss(protocol: 'tcp' | 'udp', expression: string): string[];
  /** Stops the holder (closing its sockets) and deletes the namespace. */
  close(): Promise<void>;
}

function run(cmd: string, args: readonly string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
}

/** Creates the namespace, its addresses and the socket set. */
export async function createFilterWorld(): Promise<FilterWorld> {
  const name = `sockdiag-flt-${process.pid}-${randomBytes(3).toString('hex')}`;
  run('ip', ['netns', 'add', name]);
  const exec = (cmd: string, args: readonly string[]) => run('ip', ['netns', 'exec', name, cmd, ...args]);
  let child: ChildProcessWithoutNullStreams | undefined;
  const destroy = async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child!.once('exit', () => resolve()));
      child.stdin.end();
      const timer = setTimeout(() => child!.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    }
    spawnSync('ip', ['netns', 'delete', name], { stdio: 'ignore' });
  };
  try {
    // 127.0.0.0/8 is on lo once it is up. The veth pair gives a second device, so that
    // `dev` has something other than lo and "no device" to tell apart; nodad makes the
    // IPv6 addresses usable at once.
    exec('ip', ['link', 'set', 'lo', 'up']);
    exec('ip', ['link', 'add', DEVICE, 'type', 'veth', 'peer', 'name', 'flt1']);
    exec('ip', ['link', 'set', DEVICE, 'up']);
    exec('ip', ['link', 'set', 'flt1', 'up']);
    exec('ip', ['addr', 'add', '10.77.0.1/24', 'dev', DEVICE]);
    exec('ip', ['addr', 'add', 'fd00::1/64', 'dev', DEVICE, 'nodad']);
    exec('ip', ['addr', 'add', 'fd00::2/64', 'dev', DEVICE, 'nodad']);

    const ifnames = new Map<number, string>();
    for (const line of exec('ip', ['-o', 'link', 'show']).split('\n')) {
      const m = /^(\d+): ([^:@\s]+)/.exec(line);
      if (m) ifnames.set(Number(m[1]), m[2]!);
    }
    const byName = new Map([...ifnames].map(([i, n]) => [n, i]));

    const script = join(REPO, 'test/helpers/filter-sockets.py');
    const proc = spawn('ip', ['netns', 'exec', name, 'python3', script, DEVICE], { stdio: ['pipe', 'pipe', 'pipe'] });
    child = proc;
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const first = await new Promise<string>((resolve, reject) => {
      const fail = () => reject(new Error(`filter-sockets.py did not start: ${stderr}`));
      proc.once('exit', fail);
      createInterface({ input: proc.stdout }).once('line', (line) => {
        proc.off('exit', fail);
        resolve(line);
      });
    });
    const described = JSON.parse(first) as { ephemeral: [number, number]; sockets: SetSocket[] };

    return {
      name,
      netns: { name },
      sockets: described.sockets,
      ephemeral: described.ephemeral,
      ifnames,
      ifindex: (n) => byName.get(n),
      exec,
      ss(protocol, expression) {
        const args = [protocol === 'tcp' ? '-tanH' : '-uanH', ...expression.split(/\s+/).filter((t) => t !== '')];
        return exec('ss', args)
          .split('\n')
          .filter((l) => l.trim() !== '')
          .map((line) => {
            // State Recv-Q Send-Q Local Peer (one protocol: no Netid column).
            const [, , , local, peer] = line.trim().split(/\s+/);
            if (local === undefined || peer === undefined) throw new Error(`unexpected ss line: ${line}`);
            return `${local} ${peer}`;
          });
      },
      close: destroy,
    };
  } catch (e) {
    await destroy();
    throw e;
  }
}

/**
 * One endpoint as ss -n prints it (misc/ss.c, inet_addr_print): IPv4 dotted (0.0.0.0
 * included); IPv6 in brackets, except that `::` is `*` unless the socket is v6only;
 * `%IFNAME` after the local address of a socket bound to a device; port 0 as `*`.
 */
function ssEndpoint(family: 'inet' | 'inet6', address: string, port: number, v6only: boolean, ifname?: string): string {
  const addr = family === 'inet' ? address : address === '::' && !v6only ? '*' : `[${address}]`;
  return `${addr}${ifname ? `%${ifname}` : ''}:${port === 0 ? '*' : port}`;
}

/** A socket of the library as the `LOCAL PEER` text ss prints for it. */
export function ssKey(s: InetSocket, ifnames: ReadonlyMap<number, string>): string {
  const v6only = s.skv6only === 1;
  const ifname = s.ifindex ? (ifnames.get(s.ifindex) ?? String(s.ifindex)) : undefined;
  return `${ssEndpoint(s.family, s.src, s.sport, v6only, ifname)} ${ssEndpoint(s.family, s.dst, s.dport, v6only)}`;
}

/** Sorted copy, for comparing multisets with readable diffs. */
export const sorted = <T>(items: Iterable<T>): T[] => [...items].sort();
