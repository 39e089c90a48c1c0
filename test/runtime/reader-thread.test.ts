/**
 * The reader thread against the real kernel: dumps it receives give exactly what
 * the socket's own reads give (sync and async, with a slow consumer that fills
 * every slot), it stops cleanly when the consumer stops early or closes the socket,
 * it passes kernel errors through, and it never keeps a process alive.
 */
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetlinkError, SyscallError } from '../../runtime/errors.js';
import { readerThreadReady, readerThreadStats } from '../../runtime/reader-thread.js';
import { SLOTS } from '../../runtime/reader-layout.js';
import { SockDiag, type InetSocket } from '../../query/index.js';
import { LARGE_DUMP_SOCKETS, socketsInUse } from '../../query/large-dump.js';
import { Holder, kernelTestsSkipReason, Netns, REPO } from '../helpers/netns.js';

const skipReason = kernelTestsSkipReason();
if (skipReason) console.warn(`test/runtime/reader-thread.test.ts skipped: ${skipReason}`);

const CONNECTIONS = 2500;
/** With these extensions a datagram holds about 70 sockets: 5,001 sockets span more datagrams than the thread has slots. */
const EXT = ['info', 'meminfo', 'skmeminfo', 'cong'] as const;

const key = (s: InetSocket) => `${s.family} ${s.state} ${s.src}:${s.sport} ${s.dst}:${s.dport} ino:${s.inode} cookie:${s.cookie} mss:${s.info?.sndMss}`;

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

describe.skipIf(!!skipReason)(`the reader thread in a private network namespace${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let ns: Netns;
  let holder: Holder;
  let expected: string[];

  beforeAll(async () => {
    ns = Netns.create('reader');
    holder = await Holder.start(ns, 'node');
    const listener = await holder.request<{ sock: number }>('listen', { host: '127.0.0.1', backlog: 1024 });
    await holder.request('many', { listener: listener.sock, host: '127.0.0.1', count: CONNECTIONS });
    using diag = SockDiag.open({ netns: ns.spec, readerThread: false });
    expected = [...diag.inet({ ext: [...EXT] })].map(key).sort();
    await readerThreadReady();
  });

  afterAll(async () => {
    await holder?.stop();
    ns?.delete();
  });

  it('receives a dump of many datagrams that decodes to what the socket reads itself', () => {
    expect(expected).toHaveLength(2 * CONNECTIONS + 1);
    const before = readerThreadStats();
    using diag = SockDiag.open({ netns: ns.spec });
    const got = [...diag.inet({ ext: [...EXT] })].map(key).sort();
    const after = readerThreadStats();
    expect(got).toEqual(expected);
    expect(after.jobs - before.jobs).toBe(1);
    expect(after.datagrams - before.datagrams).toBeGreaterThan(SLOTS);
  });

  it('waits for the consumer when every slot is full, and loses nothing', () => {
    using diag = SockDiag.open({ netns: ns.spec });
    const got: string[] = [];
    for (const s of diag.inet({ ext: [...EXT] })) {
      got.push(key(s));
      busy(0.05);
    }
    expect(got.sort()).toEqual(expected);
  });

  it('receives async dumps too', async () => {
    const before = readerThreadStats();
    using diag = SockDiag.open({ netns: ns.spec });
    const got: string[] = [];
    for await (const s of diag.inetAsync({ ext: [...EXT] })) got.push(key(s));
    expect(got.sort()).toEqual(expected);
    expect(readerThreadStats().datagrams - before.datagrams).toBeGreaterThan(SLOTS);
  });

  it('stops when the consumer stops early, leaving the socket ready for the next dump', async () => {
    using diag = SockDiag.open({ netns: ns.spec });
    for (const _ of diag.inet({ ext: [...EXT] })) break;
    expect([...diag.inet({ ext: [...EXT] })].map(key).sort()).toEqual(expected);
    let n = 0;
    for await (const _ of diag.inetAsync({ ext: [...EXT] })) if (++n === 100) break;
    expect([...diag.inet({ ext: [...EXT] })].map(key).sort()).toEqual(expected);
  });

  it('lets go of the descriptor when the socket is closed in the middle of a dump', () => {
    const diag = SockDiag.open({ netns: ns.spec });
    let n = 0;
    expect(() => {
      for (const _ of diag.inet({ ext: [...EXT] })) if (++n === 10) diag.close();
    }).toThrow(SyscallError);
    // The rest of the datagram in hand still comes out; then receiving fails with EBADF.
    expect(n).toBeGreaterThanOrEqual(10);
    expect(n).toBeLessThan(expected.length);
    // The thread is free again: the next socket's dump is handed to it.
    const before = readerThreadStats();
    using next = SockDiag.open({ netns: ns.spec });
    expect([...next.inet({ ext: [...EXT] })].map(key).sort()).toEqual(expected);
    expect(readerThreadStats().jobs - before.jobs).toBe(1);
  });

  it('passes a kernel error through, and stays usable', () => {
    using diag = SockDiag.open({ netns: ns.spec });
    // A filter program whose jump runs past its end: the kernel refuses it with EINVAL.
    const bad = new Uint8Array([1, 4, 200, 0]);
    expect(() => [...diag.inet({ bytecode: bad })]).toThrow(NetlinkError);
    expect([...diag.inet({ ext: [...EXT] })].map(key).sort()).toEqual(expected);
  });

  it('does not keep a process alive once its work is done', () => {
    const script = `
      import { readerThreadReady } from './runtime/reader-thread.ts';
      import { SockDiag } from './query/index.ts';
      await readerThreadReady();
      const diag = SockDiag.open({ netns: { name: ${JSON.stringify(ns.name)} } });
      let n = 0;
      for (const _ of diag.inet({ ext: ['info'] })) n++;
      for await (const _ of diag.inetAsync({ ext: ['info'] })) n++;
      console.log(n);`;
    const started = performance.now();
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO, encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(Number(r.stdout.trim())).toBe(2 * expected.length);
    expect(performance.now() - started).toBeLessThan(15_000);
  });

  it('is not started for a namespace of fewer sockets than LARGE_DUMP_SOCKETS, whose dumps it would slow down', () => {
    const used = socketsInUse(ns.spec);
    // The namespace's own count: the 5,001 TCP sockets and little else.
    expect(used).toBeGreaterThanOrEqual(expected.length);
    expect(used).toBeLessThan(expected.length + 50);
    expect(used).toBeLessThan(LARGE_DUMP_SOCKETS);
    const script = `
      import { SockDiag, readerThreadStats } from ${JSON.stringify(`${REPO}/dist/query/index.js`)};
      const diag = SockDiag.open({ netns: { name: ${JSON.stringify(ns.name)} } });
      for (const _ of diag.inet({ ext: ['info'] }));
      console.log(JSON.stringify(readerThreadStats()));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ started: false, jobs: 0, datagrams: 0, stalls: 0 });
  });

  it('lets a process that only started it exit', () => {
    const script = `import { startReaderThread } from './runtime/reader-thread.ts'; startReaderThread(); console.log('done');`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO, encoding: 'utf8', timeout: 30_000 });
    expect([r.status, r.stdout.trim(), r.stderr]).toEqual([0, 'done', '']);
  });

  it('lets a process exit cleanly right after a dump, the thread still loading', () => {
    // Node stops workers at exit wherever they are; one stopped inside koffi's native
    // set-up aborted the process ("FATAL ERROR: ... napi_throw") in a few runs of 100.
    // The thread starts as the dump starts, and the process ends with the dump. The
    // built module (dist/, fresh: see cli-global-setup) loads as fast as users load it.
    const script = `
      import { SockDiag, startReaderThread } from ${JSON.stringify(`${REPO}/dist/query/index.js`)};
      startReaderThread();
      const diag = SockDiag.open({ netns: { name: ${JSON.stringify(ns.name)} } });
      let n = 0;
      for (const _ of diag.inet({ ext: ${JSON.stringify(EXT)} })) n++;
      console.log(n);`;
    for (let i = 0; i < 40; i++) {
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
      expect([r.status, r.signal, r.stdout.trim(), r.stderr]).toEqual([0, null, String(expected.length), '']);
    }
  });
});
