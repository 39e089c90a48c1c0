/**
 * The established TCP connections with the highest round-trip times, read through
 * views: only the state, the ports, the addresses and tcp_info's rtt are read from each
 * socket, and only the ones kept are decoded. `npx tsx examples/slowest.ts [COUNT]`.
 */
import { inetViews, type InetSocket } from '../query/index.js';

const count = Number(process.argv[2] ?? 5);
const slowest: { rtt: number; socket: InetSocket }[] = [];
for (const v of inetViews({ states: ['established'], ext: ['info'] })) {
  const rtt = v.info?.rtt ?? 0;
  if (slowest.length === count && rtt <= slowest[count - 1]!.rtt) continue;
  // A view is read inside the loop; decode() keeps the socket after it.
  slowest.push({ rtt, socket: v.decode() });
  slowest.sort((a, b) => b.rtt - a.rtt);
  slowest.length = Math.min(slowest.length, count);
}
for (const { rtt, socket: s } of slowest) console.log(`${s.src}:${s.sport} -> ${s.dst}:${s.dport} rtt=${rtt / 1000}ms`);
