/** The README's examples run, and report a socket this test opened. */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createConnection, createServer } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = (name: string) => promisify(execFile)('npx', ['tsx', ...`examples/${name}`.split(' ')], { encoding: 'utf8' });
const server = createServer();
let port = 0;

beforeAll(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as { port: number }).port;
});
afterAll(() => server.close());

describe('examples', () => {
  it('listeners.ts lists our listener', async () => {
    const { stdout } = await run('listeners.ts');
    expect(stdout).toMatch(new RegExp(`^127\\.0\\.0\\.1:${port} uid=\\d+ inode=\\d+ cc=\\S+$`, 'm'));
  });

  it('tcp-info.ts shows our connection with its tcp_info', async () => {
    const client = createConnection(port, '127.0.0.1');
    await once(client, 'connect');
    try {
      const { stdout } = await run('tcp-info.ts');
      expect(stdout).toMatch(new RegExp(`:${client.localPort} -> 127\\.0\\.0\\.1:${port} rtt=[\\d.]+ms cwnd=\\d+ wscale=\\d+,\\d+`));
    } finally {
      client.destroy();
    }
  });

  it('slowest.ts lists connections with their rtt, ours among them when few are open', async () => {
    const client = createConnection(port, '127.0.0.1');
    await once(client, 'connect');
    try {
      const { stdout } = await run('slowest.ts 100000');
      expect(stdout).toMatch(new RegExp(`:${client.localPort} -> 127\\.0\\.0\\.1:${port} rtt=[\\d.]+ms`));
    } finally {
      client.destroy();
    }
  });

  it('async-count.ts counts listening TCP sockets', async () => {
    const { stdout } = await run('async-count.ts');
    expect(Number(/^tcp listen: (\d+)$/m.exec(stdout)?.[1])).toBeGreaterThanOrEqual(1);
  });
});
