/**
 * The example program of sock_diag(7) on this library: prints the inode, the peer's
 * inode and the name of every UNIX domain socket in the current network namespace,
 * one line each, exactly as the C program of the man page does:
 *
 *   inode=1234, peer=1235, name=/run/some.sock
 *
 * (`, peer=` only when there is a peer, `, name=` only when the socket has a name; an
 * abstract name is shown with a leading `@`).
 *
 *   npx tsx examples/unix-list.ts [--netns NAME]
 *
 * With `--netns NAME` it lists the sockets of the namespace NAME (`ip netns add NAME`),
 * which needs CAP_SYS_ADMIN.
 */
import { unix, type UnixQuery } from '../query/index.js';

function main(argv: readonly string[]): void {
  const q: UnixQuery = { show: ['name', 'peer'] };
  const at = argv.indexOf('--netns');
  if (at !== -1) {
    const name = argv[at + 1];
    if (name === undefined) throw new Error('--netns needs a namespace name');
    q.netns = { name };
  }
  const lines: string[] = [];
  for (const s of unix(q)) {
    let line = `inode=${s.inode}`;
    if (s.peer) line += `, peer=${s.peer}`;
    if (s.path !== undefined) line += `, name=${s.path}`;
    lines.push(line);
  }
  process.stdout.write(lines.length ? lines.join('\n') + '\n' : '');
}

main(process.argv.slice(2));
