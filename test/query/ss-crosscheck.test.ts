/**
 * The library against `ss`: for a namespace full of TCP, UDP and UNIX sockets, the
 * rows (netid, state, queues, local, peer, inode) from inet() and unix() equal what
 * `ip netns exec NAME ss -tuaxnHe` prints.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inet, unix } from '../../query/index.js';
import { hasCommand, Holder, kernelTestsSkipReason, Netns, type HeldSocket } from '../helpers/netns.js';
import { inetRow, parseSsLines, rowKey, unixRows } from '../helpers/ss.js';

const skipReason = kernelTestsSkipReason() ?? (hasCommand('ss') ? undefined : 'needs `ss` from iproute2');
if (skipReason) console.warn(`test/query/ss-crosscheck.test.ts skipped: ${skipReason}`);

describe.skipIf(!!skipReason)(`the library against ss -tuaxnHe${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let ns: Netns;
  let node: Holder;
  let py: Holder;
  let dir: string;
  const held: HeldSocket[] = [];
  const tag = `sockdiag-q-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

  beforeAll(async () => {
    ns = Netns.create('ss');
    dir = mkdtempSync(join(tmpdir(), 'sockdiag-q-ss-'));
    chmodSync(dir, 0o777);
    [node, py] = await Promise.all([Holder.start(ns, 'node', { user: 'nobody' }), Holder.start(ns, 'python')]);
    const keep = <T extends HeldSocket | HeldSocket[] | { client: HeldSocket; server: HeldSocket }>(x: T): T => {
      if (Array.isArray(x)) held.push(...x);
      else if ('client' in x) held.push(x.client, x.server);
      else held.push(x);
      return x;
    };
    // TCP: listeners and connections over IPv4 and IPv6, some with unread bytes.
    const l4 = keep(await node.request<HeldSocket>('listen', { host: '127.0.0.1', backlog: 17 }));
    const l6 = keep(await node.request<HeldSocket>('listen', { host: '::1' }));
    const c4 = keep(await node.request<{ client: HeldSocket; server: HeldSocket }>('connect', { listener: l4.sock, host: '127.0.0.1' }));
    keep(await node.request<{ client: HeldSocket; server: HeldSocket }>('connect', { listener: l4.sock, host: '127.0.0.1' }));
    const c6 = keep(await node.request<{ client: HeldSocket; server: HeldSocket }>('connect', { listener: l6.sock, host: '::1' }));
    await node.request('write', { sock: c4.client.sock, bytes: 4321 });
    await node.request('write', { sock: c6.client.sock, bytes: 99 });
    // UDP: bound and connected, both families.
    const u4 = keep(await node.request<HeldSocket>('udp', { family: 4, host: '127.0.0.1' }));
    keep(await node.request<HeldSocket>('udp', { family: 4, host: '127.0.0.1', connect: { host: '127.0.0.1', port: u4.localPort } }));
    const u6 = keep(await node.request<HeldSocket>('udp', { family: 6, host: '::1' }));
    keep(await node.request<HeldSocket>('udp', { family: 6, host: '::1', connect: { host: '::1', port: u6.localPort } }));
    // UNIX: every type; named, abstract, unnamed; pending connections and unread data.
    const named = join(dir, 'l.sock');
    const open = async (args: Record<string, unknown>) => keep(await py.request<HeldSocket>('socket', args));
    const L = await open({ type: 'stream', bind: { path: named }, listen: 5 });
    // The first connection is accepted; the second stays pending, with 64 bytes sent into it.
    await open({ type: 'stream', connect: { path: named } });
    const pending = await open({ type: 'stream', connect: { path: named } });
    keep(await py.request<HeldSocket>('accept', { sock: L.sock }));
    await py.request('send', { sock: pending.sock, bytes: 64 });
    await open({ type: 'seqpacket', bind: { abstract: `${tag}-seq` }, listen: 2 });
    await open({ type: 'seqpacket', connect: { abstract: `${tag}-seq` } });
    await open({ type: 'dgram', bind: { path: join(dir, 'd.sock') } });
    const U = await open({ type: 'dgram' });
    await py.request('send', { sock: U.sock, bytes: 12, to: { path: join(dir, 'd.sock') } });
    await open({ type: 'dgram', bind: { abstract: `${tag}-dgram` } });
    keep(await py.request<HeldSocket[]>('pair', { type: 'stream' }));
    keep(await py.request<HeldSocket[]>('pair', { type: 'seqpacket' }));
  });

  afterAll(async () => {
    await node?.stop();
    await py?.stop();
    ns?.delete();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const ours = () => {
    const netns = ns.spec;
    return [
      ...[...inet({ netns, protocol: 'tcp' })].map((s) => inetRow(s, 'tcp')),
      ...[...inet({ netns, protocol: 'udp' })].map((s) => inetRow(s, 'udp')),
      ...unixRows([...unix({ netns })]),
    ]
      .map(rowKey)
      .sort();
  };
  const theirs = () => parseSsLines(ns.ss(['-tuaxnHe'])).map(rowKey).sort();

  it('gives the same sockets, states, queues, addresses and inodes as ss', async () => {
    let mine = ours();
    let ss = theirs();
    // Queues settle within moments (acks in flight); compare again until they agree.
    for (let i = 0; i < 10 && JSON.stringify(mine) !== JSON.stringify(ss); i++) {
      await sleep(100);
      mine = ours();
      ss = theirs();
    }
    expect(mine).toEqual(ss);
    // The comparison is about the sockets made here: every one of them is in it.
    const listed = new Set(mine.map((k) => Number(/ ino:(\d+)/.exec(k)![1])));
    for (const h of held) expect(listed.has(h.inode), `${h.sock} (inode ${h.inode})`).toBe(true);
    // ...and nothing else is (the accepted-not-yet connections have no inode of their own).
    expect(listed.size).toBe(held.length);
    expect(mine.some((k) => k.startsWith('tcp ESTAB 4321 0 127.0.0.1:'))).toBe(true);
    expect(mine.some((k) => k.startsWith('u_str LISTEN 1 5 '))).toBe(true);
  });
});
