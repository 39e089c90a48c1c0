/** Prints round-trip time, congestion window and bytes for every established TCP connection. */
import { SockDiag } from '../query/index.js';

using diag = SockDiag.open();
for (const s of diag.inet({ states: ['established'], ext: ['info', 'cong'] })) {
  const i = s.info;
  if (!i) continue;
  console.log(`${s.src}:${s.sport} -> ${s.dst}:${s.dport} rtt=${i.rtt / 1000}ms cwnd=${i.sndCwnd} wscale=${i.sndWscale},${i.rcvWscale} acked=${i.bytesAcked ?? '?'} ${s.cong ?? ''}`);
}
console.log(diag.status.interrupted ? 'the dump was interrupted by changes' : 'consistent dump');
