/**
 * unix() and unixLookup() against the real kernel: UNIX stream, dgram and seqpacket
 * sockets (named, abstract, unnamed) made by a python holder running as `nobody` in a
 * private network namespace.
 */
import { chmodSync, mkdtempSync, readlinkSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SockDiag, StaleViewError, unix, unixLookup, unixViews, unixViewsAsync, type UnixSocket, type UnixSocketView } from '../../query/index.js';
import { Holder, kernelTestsSkipReason, Netns, type HeldSocket } from '../helpers/netns.js';

const skipReason = kernelTestsSkipReason();
if (skipReason) console.warn(`test/query/unix.test.ts skipped: ${skipReason}`);

/** The dev_t the kernel keeps (MAJOR << 20 | MINOR) in the encoding stat(2) returns. */
function userDev(kdev: number): number {
  const major = Math.floor(kdev / 2 ** 20);
  const minor = kdev % 2 ** 20;
  return (minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12);
}

describe.skipIf(!!skipReason)(`UNIX queries in a private network namespace${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let ns: Netns;
  let holder: Holder;
  let dir: string;
  const tag = `sockdiag-q-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const s: Record<string, HeldSocket> = {};
  const paths: Record<string, string> = {};
  const netns = () => ns.spec;
  const dump = (q: Parameters<typeof unix>[0] = {}) => [...unix({ netns: netns(), ...q })];
  const byInode = (all: UnixSocket[]) => new Map(all.map((x) => [x.inode, x]));
  const inodes = (...names: string[]) => new Set(names.map((n) => s[n]!.inode));

  beforeAll(async () => {
    ns = Netns.create('unix');
    dir = mkdtempSync(join(tmpdir(), 'sockdiag-q-unix-'));
    chmodSync(dir, 0o777);
    paths.L = join(dir, 'listener.sock');
    paths.S = join(dir, 'server.sock');
    paths.D = join(dir, 'dgram.sock');
    holder = await Holder.start(ns, 'python', { user: 'nobody' });
    const open = async (name: string, args: Record<string, unknown>) => (s[name] = await holder.request<HeldSocket>('socket', args));
    // A named listener with two connections it has not accepted.
    await open('L', { type: 'stream', bind: { path: paths.L }, listen: 7 });
    await open('c1', { type: 'stream', connect: { path: paths.L } });
    await open('c2', { type: 'stream', connect: { path: paths.L } });
    // A named listener with an accepted connection and 123 unread bytes.
    await open('S', { type: 'stream', bind: { path: paths.S }, listen: 3 });
    await open('c3', { type: 'stream', connect: { path: paths.S } });
    s.a3 = await holder.request<HeldSocket>('accept', { sock: s.S!.sock });
    await holder.request('send', { sock: s.c3!.sock, bytes: 123 });
    // An abstract seqpacket listener with an accepted connection and two unread packets.
    await open('Q', { type: 'seqpacket', bind: { abstract: `${tag}-seq` }, listen: 4 });
    await open('c4', { type: 'seqpacket', connect: { abstract: `${tag}-seq` } });
    s.a4 = await holder.request<HeldSocket>('accept', { sock: s.Q!.sock });
    await holder.request('send', { sock: s.c4!.sock, bytes: 10 });
    await holder.request('send', { sock: s.c4!.sock, bytes: 20 });
    // A named datagram socket with two datagrams from an unnamed one.
    await open('D', { type: 'dgram', bind: { path: paths.D } });
    await open('U', { type: 'dgram' });
    await holder.request('send', { sock: s.U!.sock, bytes: 77, to: { path: paths.D } });
    await holder.request('send', { sock: s.U!.sock, bytes: 5, to: { path: paths.D } });
    // An abstract datagram socket, and an unnamed connected pair.
    await open('A', { type: 'dgram', bind: { abstract: `${tag}-dgram` } });
    [s.p1, s.p2] = await holder.request<[HeldSocket, HeldSocket]>('pair', { type: 'dgram' });
  });

  afterAll(async () => {
    await holder?.stop();
    ns?.delete();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('lists exactly the UNIX sockets of the namespace, with the inodes the holder has open', () => {
    const all = dump();
    expect(new Set(all.map((x) => x.inode))).toEqual(new Set(Object.values(s).map((h) => h.inode)));
    const held = holder.socketInodes();
    for (const x of all) {
      expect(held.has(x.inode), `inode ${x.inode} in /proc/${holder.pid}/fd`).toBe(true);
      expect(x.family).toBe('unix');
      // UNIX_DIAG_UID: the holder runs as nobody.
      expect(x.uid).toBe(holder.uid);
      expect(x.meminfo).toHaveLength(9);
    }
    expect(holder.uid).toBe(65534);
    expect(new Set(all.map((x) => x.cookie)).size).toBe(all.length);
  });

  it('reports types, states, names and peers', () => {
    const m = byInode(dump());
    const get = (n: string) => m.get(s[n]!.inode)!;
    expect(get('L')).toMatchObject({ type: 'stream', state: 'listen', path: paths.L });
    expect(get('S')).toMatchObject({ type: 'stream', state: 'listen', path: paths.S });
    expect(get('Q')).toMatchObject({ type: 'seqpacket', state: 'listen', path: `@${tag}-seq` });
    expect(get('D')).toMatchObject({ type: 'dgram', state: 'close', path: paths.D });
    expect(get('A')).toMatchObject({ type: 'dgram', state: 'close', path: `@${tag}-dgram` });
    expect(get('U')).toMatchObject({ type: 'dgram', state: 'close', path: undefined });
    // The abstract name's raw bytes start with NUL and have no terminator.
    expect([...get('A').name!]).toEqual([0, ...Buffer.from(`${tag}-dgram`)]);
    // An accepted socket carries its listener's name.
    expect(get('a3')).toMatchObject({ type: 'stream', state: 'established', path: paths.S, peer: s.c3!.inode });
    expect(get('c3')).toMatchObject({ type: 'stream', state: 'established', path: undefined, peer: s.a3!.inode });
    expect(get('a4')).toMatchObject({ type: 'seqpacket', state: 'established', path: `@${tag}-seq`, peer: s.c4!.inode });
    expect(get('c4')).toMatchObject({ type: 'seqpacket', state: 'established', peer: s.a4!.inode });
    expect(get('p1')).toMatchObject({ type: 'dgram', state: 'established', path: undefined, peer: s.p2!.inode });
    expect(get('p2')).toMatchObject({ type: 'dgram', state: 'established', path: undefined, peer: s.p1!.inode });
    // A connection not accepted yet has as peer the listener's embryo socket, which has no inode.
    expect(get('c1')).toMatchObject({ type: 'stream', state: 'established', peer: 0 });
    expect(get('D').peer).toBeUndefined();
  });

  it('lists the pending connections of a listener (icons) and its queue lengths', () => {
    const m = byInode(dump());
    const listener = m.get(s.L!.inode)!;
    // UNIX_DIAG_ICONS names the peers of the embryos: the connecting sockets.
    expect(listener.icons).toEqual([s.c1!.inode, s.c2!.inode]);
    expect(listener.rqlen).toMatchObject({ udiagRqueue: 2, udiagWqueue: 7 });
    expect(m.get(s.S!.inode)!.icons).toEqual([]);
    expect(m.get(s.Q!.inode)!.rqlen).toMatchObject({ udiagRqueue: 0, udiagWqueue: 4 });
  });

  it('reports unread data in rqlen', () => {
    const m = byInode(dump());
    // Stream and seqpacket: all queued bytes; dgram: the first datagram's length.
    expect(m.get(s.a3!.inode)!.rqlen?.udiagRqueue).toBe(123);
    expect(m.get(s.c3!.inode)!.rqlen?.udiagRqueue).toBe(0);
    expect(m.get(s.a4!.inode)!.rqlen?.udiagRqueue).toBe(30);
    expect(m.get(s.D!.inode)!.rqlen?.udiagRqueue).toBe(77);
    expect(m.get(s.p1!.inode)!.rqlen?.udiagRqueue).toBe(0);
  });

  it('reports the file of a named socket (VFS) as stat(2) sees it', () => {
    const m = byInode(dump());
    for (const n of ['L', 'S', 'D'] as const) {
      const st = statSync(paths[n]!);
      expect(st.isSocket()).toBe(true);
      const vfs = m.get(s[n]!.inode)!.vfs!;
      expect(vfs.udiagVfsIno, n).toBe(st.ino);
      expect(userDev(vfs.udiagVfsDev), n).toBe(st.dev);
    }
    expect(m.get(s.A!.inode)!.vfs).toBeUndefined();
    expect(m.get(s.p1!.inode)!.vfs).toBeUndefined();
  });

  it('yields through unixViews() the sockets unix() yields, with the same fields; filters; async; stale views throw', async () => {
    const records = byInode(dump());
    const seen: number[] = [];
    const kept: UnixSocketView[] = [];
    for (const v of unixViews({ netns: netns() })) {
      const r = records.get(v.inode)!;
      expect(r, `inode ${v.inode}`).toBeDefined();
      // Each field as the view reads it, its structs decoded, against the record.
      const read = { type: v.type, state: v.state, cookie: v.cookie, path: v.path, name: v.name, peer: v.peer, icons: v.icons, uid: v.uid, rqlen: v.rqlen?.decode(), vfs: v.vfs?.decode() };
      expect(read).toEqual({ type: r.type, state: r.state, cookie: r.cookie, path: r.path, name: r.name, peer: r.peer, icons: r.icons, uid: r.uid, rqlen: r.rqlen, vfs: r.vfs });
      expect(v.decode()).toEqual(r);
      seen.push(v.inode);
      kept.push(v);
    }
    expect(new Set(seen)).toEqual(new Set(records.keys()));
    for (const v of kept) expect(() => v.path).toThrow(StaleViewError);
    const seqpackets: number[] = [];
    for await (const v of unixViewsAsync({ netns: netns(), type: 'seqpacket' })) seqpackets.push(v.inode);
    expect(new Set(seqpackets)).toEqual(new Set(dump({ type: 'seqpacket' }).map((x) => x.inode)));
    expect(seqpackets.length).toBeGreaterThan(0);
  });

  it('filters by type and state', () => {
    expect(new Set(dump({ type: 'seqpacket' }).map((x) => x.inode))).toEqual(inodes('Q', 'c4', 'a4'));
    expect(new Set(dump({ type: 'dgram' }).map((x) => x.inode))).toEqual(inodes('D', 'U', 'A', 'p1', 'p2'));
    expect(new Set(dump({ states: ['listen'] }).map((x) => x.inode))).toEqual(inodes('L', 'S', 'Q'));
    expect(new Set(dump({ states: ['close'] }).map((x) => x.inode))).toEqual(inodes('D', 'U', 'A'));
    expect(new Set(dump({ type: 'stream', states: ['established'] }).map((x) => x.inode))).toEqual(inodes('c1', 'c2', 'c3', 'a3'));
  });

  it('asks only for what `show` names', () => {
    const named = byInode(dump({ show: ['name'] })).get(s.L!.inode)!;
    expect(named.path).toBe(paths.L);
    expect(named.icons).toBeUndefined();
    expect(named.rqlen).toBeUndefined();
    expect(named.vfs).toBeUndefined();
    expect(named.uid).toBeUndefined();
    const bare = byInode(dump({ show: [] })).get(s.a3!.inode)!;
    expect(bare).toMatchObject({ type: 'stream', state: 'established', inode: s.a3!.inode });
    expect(bare.name).toBeUndefined();
    expect(bare.peer).toBeUndefined();
  });

  describe('unixLookup', () => {
    it('finds a socket by inode, and by inode and cookie', () => {
      const found = unixLookup(s.L!.inode, undefined, { netns: netns() });
      expect(found).toMatchObject({ inode: s.L!.inode, type: 'stream', state: 'listen', path: paths.L, icons: [s.c1!.inode, s.c2!.inode] });
      const cookie = byInode(dump()).get(s.p1!.inode)!.cookie;
      const byCookie = unixLookup(s.p1!.inode, cookie, { netns: netns() });
      expect(byCookie).toMatchObject({ inode: s.p1!.inode, peer: s.p2!.inode });
    });

    it('returns undefined for an inode no socket has', () => {
      expect(unixLookup(0x7ffffff0, undefined, { netns: netns() })).toBeUndefined();
      // A socket of the host namespace is not found in the test's namespace.
      expect(unixLookup(s.L!.inode)).toBeUndefined();
    });

    it('returns undefined when the cookie belongs to another socket', () => {
      const other = byInode(dump()).get(s.p2!.inode)!.cookie;
      expect(unixLookup(s.p1!.inode, other, { netns: netns() })).toBeUndefined();
    });

    it('finds a socket of its own namespace by default', async () => {
      const server = net.createServer();
      await new Promise<void>((resolve) => server.listen({ path: `\0${tag}-host` }, resolve));
      try {
        const fd = (server as unknown as { _handle: { fd: number } })._handle.fd;
        const ino = Number(/\d+/.exec(readlinkSync(`/proc/self/fd/${fd}`))![0]);
        const found = unixLookup(ino);
        expect(found).toMatchObject({ inode: ino, state: 'listen' });
        // Node binds abstract names with the whole sun_path: the trailing NULs show as '@', as in ss.
        expect(found!.path).toMatch(new RegExp(`^@${tag}-host@*$`));
        expect(unixLookup(ino, undefined, { netns: netns() })).toBeUndefined();
      } finally {
        server.close();
      }
    });

    it('gives many lookups through one SockDiag', () => {
      using diag = SockDiag.open({ netns: netns() });
      for (let i = 0; i < 50; i++) {
        for (const n of ['L', 'a3', 'p1']) expect(diag.unixLookup(s[n]!.inode)?.inode).toBe(s[n]!.inode);
      }
    });
  });
});
