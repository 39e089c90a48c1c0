/** Lists this machine's listening TCP sockets with their owner and congestion control. */
import { inet } from '../query/index.js';

for (const s of inet({ protocol: 'tcp', states: ['listen'], ext: ['cong'] })) {
  const addr = s.family === 'inet6' ? `[${s.src}]` : s.src;
  console.log(`${addr}:${s.sport} uid=${s.uid} inode=${s.inode} cc=${s.cong ?? '-'}`);
}
