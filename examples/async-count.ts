/** Counts sockets by state with the async API, which leaves the event loop free while it waits. */
import { inetAsync, unixAsync } from '../query/index.js';

const counts = new Map<string, number>();
for await (const s of inetAsync({ protocol: 'tcp' })) counts.set(`tcp ${s.state}`, (counts.get(`tcp ${s.state}`) ?? 0) + 1);
for await (const s of unixAsync()) counts.set(`unix ${s.state}`, (counts.get(`unix ${s.state}`) ?? 0) + 1);
for (const [k, n] of [...counts].sort()) console.log(`${k}: ${n}`);
