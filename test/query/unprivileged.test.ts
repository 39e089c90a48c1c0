/**
 * The query API needs no privileges: a script run as `nobody` (setpriv) dumps TCP and
 * UNIX sockets, in the host's namespace and in a namespace it was started in; only
 * entering another namespace needs CAP_SYS_ADMIN, and says so.
 */
import { execFileSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasCommand, Holder, kernelTestsSkipReason, Netns, REPO, type HeldSocket } from '../helpers/netns.js';

const skipReason = kernelTestsSkipReason() ?? (hasCommand('setpriv') ? undefined : 'needs setpriv (util-linux) to drop to nobody');
if (skipReason) console.warn(`test/query/unprivileged.test.ts skipped: ${skipReason}`);

const SCRIPT = join(REPO, 'test/helpers/dump-count.ts');
const AS_NOBODY = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'];

interface Count {
  uid: number;
  tcp: number;
  tcpInodes: number[];
  tcpUids: number[];
  unix: number;
  unixInodes: number[];
  netnsCount?: number;
  netnsError?: { name: string; code: string; message: string };
}

/** Runs the script as nobody (after `prefix`, e.g. `ip netns exec NAME`) and parses its line. */
function runAsNobody(prefix: string[], args: string[] = []): Count {
  const cmd = [...prefix, ...AS_NOBODY, process.execPath, '--import', 'tsx', SCRIPT, ...args];
  const stdout = execFileSync(cmd[0]!, cmd.slice(1), { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Count;
}

describe.skipIf(!!skipReason)(`queries as an unprivileged user${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let ns: Netns;
  let holder: Holder;
  let listener: HeldSocket;
  let pair: { client: HeldSocket; server: HeldSocket };

  beforeAll(async () => {
    ns = Netns.create('nobody');
    holder = await Holder.start(ns, 'node');
    listener = await holder.request('listen', { host: '127.0.0.1' });
    pair = await holder.request('connect', { listener: listener.sock, host: '127.0.0.1' });
  });

  afterAll(async () => {
    await holder?.stop();
    ns?.delete();
  });

  it('dumps the TCP sockets of the host namespace as nobody', async () => {
    // A listener of this (root) test process in the host namespace, which nobody must see too.
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const fd = (server as unknown as { _handle: { fd: number } })._handle.fd;
      const inode = Number(/\d+/.exec(readlinkSync(`/proc/self/fd/${fd}`))![0]);
      const r = runAsNobody([]);
      expect(r.uid).toBe(65534);
      expect(r.tcp).toBe(r.tcpInodes.length);
      expect(r.tcp).toBeGreaterThan(0);
      expect(r.tcpInodes).toContain(inode);
      expect(r.tcpUids).toContain(0);
    } finally {
      server.close();
    }
  });

  it('dumps exactly the sockets of the namespace it runs in as nobody', () => {
    const r = runAsNobody(['ip', 'netns', 'exec', ns.name]);
    expect(r.uid).toBe(65534);
    expect(new Set(r.tcpInodes)).toEqual(new Set([listener.inode, pair.client.inode, pair.server.inode]));
    expect(r.tcpUids).toEqual([0]);
    // UNIX sockets: the script's own (tsx may start esbuild with socketpairs), so only a consistent count.
    expect(r.unix).toBe(r.unixInodes.length);
  });

  it('cannot enter another namespace as nobody, and the error names the namespace', () => {
    const r = runAsNobody([], [ns.name]);
    expect(r.netnsCount).toBeUndefined();
    expect(r.netnsError?.name).toBe('SyscallError');
    expect(['EPERM', 'EACCES']).toContain(r.netnsError?.code);
    expect(r.netnsError?.message).toContain(`"${ns.name}"`);
  });
});
