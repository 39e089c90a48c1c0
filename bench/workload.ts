/**
 * The benchmark's workload: N established TCP sockets on loopback inside a private
 * network namespace, which it makes and removes.
 *
 * N counts sockets as a dump shows them: N/2 connections, each seen twice (the
 * client end and the accepted server end). The namespace also holds 10 listening
 * sockets per holder process, so a dump of it reports N + 10*P sockets.
 *
 * The open-file limit here is 20,000 per process, so the connections are spread
 * over P holder processes (bench/holder.c, at most 8,500 connections = 17,000
 * descriptors each). Holder k listens on 127.0.0.(k+1) ports 20000..20009 and
 * connects from 127.0.1.(k+1), so no (source address, destination) pair runs
 * short of ephemeral ports; the namespace's ip_local_port_range is widened to
 * 1024-65535 as well. A holder exits when its stdin closes, so holders never
 * outlive the process that started them.
 *
 * Standalone: `tsx bench/workload.ts --sockets 100000` holds the workload until
 * Ctrl-C and prints the namespace name.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { alive, compile, onCleanup, sh } from './tools.js';

/** Connections per holder process: 2 descriptors each, under the 20,000 limit with room to spare. */
export const CONNECTIONS_PER_PROCESS = 8_500;
/** Listening ports per holder; connection i goes to PORT_BASE + i % PORTS. */
export const PORTS = 10;
export const PORT_BASE = 20_000;
/** Holder k listens on `${LISTEN_NET}${k + 1}` and connects from `${CLIENT_NET}${k + 1}`. */
export const LISTEN_NET = '127.0.0.';
export const CLIENT_NET = '127.0.1.';
const PREFIX = 'sockdiag-bench-';
const READY_TIMEOUT_MS = 180_000;

export interface Workload {
  /** The namespace's name (in /run/netns). */
  netns: string;
  /** Established sockets (both ends of every connection). */
  sockets: number;
  connections: number;
  processes: number;
  /** Connections held by each holder process. */
  perProcess: number[];
  /** Listening sockets. */
  listeners: number;
  /** What a full TCP dump of the namespace reports: sockets + listeners. */
  expected: number;
  setupMs: number;
  /** Ends the holders and removes the namespace. */
  stop(): void;
}

/** Removes namespaces a killed earlier run left behind (their creator is gone). */
export function removeStaleNamespaces(log: (line: string) => void = () => {}): void {
  let list: string;
  try {
    list = sh('ip', ['netns', 'list']);
  } catch {
    return;
  }
  for (const line of list.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const m = /^sockdiag-bench-(\d+)$/.exec(name);
    if (!m || alive(Number(m[1]))) continue;
    log(`removing stale namespace ${name}`);
    try {
      sh('ip', ['netns', 'del', name]);
    } catch (e) {
      log(`could not remove ${name}: ${(e as Error).message}`);
    }
  }
}

/** Makes the namespace and the sockets; resolves once every connection is established. */
export async function startWorkload(sockets: number, log: (line: string) => void = () => {}): Promise<Workload> {
  if (!Number.isSafeInteger(sockets) || sockets < 2 || sockets > 2_000_000) throw new RangeError(`--sockets must be 2..2000000, not ${sockets}`);
  const connections = Math.ceil(sockets / 2);
  const processes = Math.ceil(connections / CONNECTIONS_PER_PROCESS);
  if (processes > 250) throw new RangeError('too many holder processes');
  const perProcess = Array.from({ length: processes }, (_, k) => Math.floor(connections / processes) + (k < connections % processes ? 1 : 0));
  const holder = compile('holder');
  const netns = `${PREFIX}${process.pid}`;
  const t0 = performance.now();

  const holders: ChildProcess[] = [];
  let removed = false;
  const stop = onCleanup(() => {
    for (const h of holders) {
      if (h.exitCode === null && h.signalCode === null && h.pid !== undefined) {
        try {
          process.kill(h.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    }
    if (!removed) {
      removed = true;
      try {
        sh('ip', ['netns', 'del', netns]);
      } catch (e) {
        process.stderr.write(`bench: could not remove namespace ${netns}: ${(e as Error).message}\n`);
      }
    }
  });

  try {
    sh('ip', ['netns', 'add', netns]);
    sh('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
    sh('ip', ['netns', 'exec', netns, 'sysctl', '-q', '-w', 'net.ipv4.ip_local_port_range=1024 65535']);

    const ready: Promise<void>[] = [];
    for (let k = 0; k < processes; k++) {
      const n = perProcess[k]!;
      const args = ['netns', 'exec', netns, holder, `${LISTEN_NET}${k + 1}`, `${CLIENT_NET}${k + 1}`, String(PORT_BASE), String(PORTS), String(n)];
      const h = spawn('ip', args, { stdio: ['pipe', 'pipe', 'pipe'] });
      holders.push(h);
      ready.push(
        new Promise<void>((resolve, reject) => {
          let out = '';
          let err = '';
          const timer = setTimeout(() => reject(new Error(`holder ${k} not ready after ${READY_TIMEOUT_MS / 1000}s`)), READY_TIMEOUT_MS);
          h.stdout!.on('data', (d: Buffer) => {
            out += d.toString();
            if (out.includes('ready')) {
              clearTimeout(timer);
              resolve();
            }
          });
          h.stderr!.on('data', (d: Buffer) => (err += d.toString()));
          h.on('error', (e) => {
            clearTimeout(timer);
            reject(e);
          });
          h.on('exit', (code, signal) => {
            clearTimeout(timer);
            reject(new Error(`holder ${k} exited (${code ?? signal}) before it was ready: ${err.trim()}`));
          });
        }),
      );
    }
    await Promise.all(ready);
    const setupMs = performance.now() - t0;
    log(`${netns}: ${connections} connections (${2 * connections} sockets) in ${processes} processes, ${processes * PORTS} listeners, ${(setupMs / 1000).toFixed(1)} s`);
    return {
      netns,
      sockets: 2 * connections,
      connections,
      processes,
      perProcess,
      listeners: processes * PORTS,
      expected: 2 * connections + processes * PORTS,
      setupMs,
      stop,
    };
  } catch (e) {
    stop();
    throw e;
  }
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { sockets: { type: 'string', default: '100000' } } });
  if (process.getuid?.() !== 0) {
    process.stderr.write('workload: needs root (ip netns add)\n');
    process.exit(1);
  }
  removeStaleNamespaces((l) => process.stderr.write(`workload: ${l}\n`));
  const w = await startWorkload(Number(values.sockets), (l) => process.stderr.write(`workload: ${l}\n`));
  process.stdout.write(`${w.netns}\nholding ${w.sockets} established sockets + ${w.listeners} listeners; Ctrl-C to end\n`);
  // Stay alive until a signal; the cleanup handlers end the holders and remove the namespace.
  setInterval(() => {}, 1 << 30);
}
