/**
 * Run by test/query/unprivileged.test.ts as an unprivileged user: dumps the TCP and
 * UNIX sockets of its own network namespace and prints one JSON line with what it
 * found. With a namespace name as argument it also tries a query inside that namespace
 * (which needs CAP_SYS_ADMIN) and prints the error.
 *
 *   node --import tsx test/helpers/dump-count.ts [NETNS]
 */
import { inet, unix } from '../../query/index.js';

const out: Record<string, unknown> = { uid: process.getuid?.() };
const tcp = [...inet({ protocol: 'tcp' })];
out.tcp = tcp.length;
out.tcpInodes = tcp.map((s) => s.inode);
out.tcpUids = [...new Set(tcp.map((s) => s.uid))];
const unixSockets = [...unix()];
out.unix = unixSockets.length;
out.unixInodes = unixSockets.map((s) => s.inode);
const name = process.argv[2];
if (name !== undefined) {
  try {
    out.netnsCount = [...inet({ netns: { name } })].length;
  } catch (e) {
    const err = e as Error & { code?: string };
    out.netnsError = { name: err.name, code: err.code, message: err.message };
  }
}
console.log(JSON.stringify(out));
