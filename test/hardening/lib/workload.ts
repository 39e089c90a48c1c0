/**
 * Many established TCP sockets in a namespace, held by the benchmark's C holder
 * (bench/holder.c, compiled here; the same layout as bench/workload.ts, without its
 * process-wide cleanup handlers, which do not belong in a test worker): holder k
 * listens on 127.0.0.(k+1) ports 20000..20009 and connects from 127.0.1.(k+1), at most
 * 8,500 connections (17,000 descriptors) per process.
 */
import { execFileSync } from 'node:child_process';
import { compileC, startHelper, type Helper } from './c-tools.js';

const PER_PROCESS = 8_500;
const PORTS = 10;
const PORT_BASE = 20_000;

export interface Workload {
  /** Established sockets (both ends of each connection). */
  sockets: number;
  listeners: number;
  /** What a full TCP dump of the namespace holds. */
  expected: number;
  setupMs: number;
  stop(): Promise<void>;
}

/** Opens `sockets` established sockets (rounded up to even) in namespace `netns`. */
export async function holdSockets(netns: string, sockets: number): Promise<Workload> {
  const t0 = performance.now();
  const holder = compileC('bench/holder.c');
  execFileSync('ip', ['netns', 'exec', netns, 'sysctl', '-q', '-w', 'net.ipv4.ip_local_port_range=1024 65535']);
  const connections = Math.ceil(sockets / 2);
  const processes = Math.ceil(connections / PER_PROCESS);
  const helpers: Helper[] = [];
  try {
    const starts = [];
    for (let k = 0; k < processes; k++) {
      const n = Math.floor(connections / processes) + (k < connections % processes ? 1 : 0);
      starts.push(startHelper(netns, holder, [`127.0.0.${k + 1}`, `127.0.1.${k + 1}`, String(PORT_BASE), String(PORTS), String(n)]).then((h) => helpers.push(h)));
    }
    await Promise.all(starts);
  } catch (e) {
    await Promise.all(helpers.map((h) => h.stop()));
    throw e;
  }
  return {
    sockets: 2 * connections,
    listeners: processes * PORTS,
    expected: 2 * connections + processes * PORTS,
    setupMs: performance.now() - t0,
    stop: async () => {
      await Promise.all(helpers.map((h) => h.stop()));
    },
  };
}
