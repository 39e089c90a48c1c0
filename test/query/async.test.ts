/**
 * inetAsync() and unixAsync() against the real kernel, with dumps of a few thousand
 * sockets (several receive buffers): the same sockets as the synchronous dumps, the
 * event loop free between buffers, and a SockDiag that stays usable after a dump
 * stopped early.
 */
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inet, inetAsync, SockDiag, unix, unixAsync, type InetSocket, type UnixSocket } from '../../query/index.js';
import { Holder, kernelTestsSkipReason, Netns, type HeldSocket } from '../helpers/netns.js';

const skipReason = kernelTestsSkipReason();
if (skipReason) console.warn(`test/query/async.test.ts skipped: ${skipReason}`);

const CONNECTIONS = 600;
const UNIX_PAIRS = 1500;

const inetKey = (s: InetSocket) => `${s.family} ${s.state} ${s.src}:${s.sport} ${s.dst}:${s.dport} ino:${s.inode} cookie:${s.cookie}`;
const unixKey = (s: UnixSocket) => `${s.type} ${s.state} ino:${s.inode} peer:${s.peer} cookie:${s.cookie}`;

/** Spins for `ms` milliseconds: a consumer that does work for each socket. */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe.skipIf(!!skipReason)(`async dumps in a private network namespace${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let ns: Netns;
  let tcp: Holder;
  let py: Holder;
  let listener: HeldSocket;
  const netns = () => ns.spec;

  beforeAll(async () => {
    ns = Netns.create('async');
    [tcp, py] = await Promise.all([Holder.start(ns, 'node'), Holder.start(ns, 'python')]);
    listener = await tcp.request('listen', { host: '127.0.0.1', backlog: 4096 });
    await Promise.all([
      tcp.request('many', { listener: listener.sock, host: '127.0.0.1', count: CONNECTIONS }),
      py.request('many-pairs', { count: UNIX_PAIRS }),
    ]);
  });

  afterAll(async () => {
    await tcp?.stop();
    await py?.stop();
    ns?.delete();
  });

  it('inetAsync yields the same sockets as inet', async () => {
    const sync = [...inet({ netns: netns() })].map(inetKey).sort();
    const async = (await collect(inetAsync({ netns: netns() }))).map(inetKey).sort();
    expect(sync).toHaveLength(2 * CONNECTIONS + 1);
    expect(async).toEqual(sync);
    expect(sync.filter((k) => k.includes(`ino:${listener.inode} `))).toHaveLength(1);
  });

  it('unixAsync yields the same sockets as unix', async () => {
    const sync = [...unix({ netns: netns() })].map(unixKey).sort();
    const async = (await collect(unixAsync({ netns: netns() }))).map(unixKey).sort();
    expect(sync).toHaveLength(2 * UNIX_PAIRS);
    expect(async).toEqual(sync);
  });

  it('keeps timers firing during a large async dump (and not during a synchronous one)', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    try {
      // A synchronous dump holds the event loop: no tick while it runs.
      const syncTicks: number[] = [];
      for (const _ of inet({ netns: netns() })) {
        syncTicks.push(ticks);
        busy(0.05);
      }
      expect(syncTicks.at(-1)).toBe(syncTicks[0]);

      const asyncTicks: number[] = [];
      let count = 0;
      for await (const _ of inetAsync({ netns: netns() })) {
        asyncTicks.push(ticks);
        busy(0.05);
        count++;
      }
      expect(count).toBe(2 * CONNECTIONS + 1);
      expect(asyncTicks.at(-1)! - asyncTicks[0]!).toBeGreaterThan(0);
      // The timer ran at several points of the dump, not only once.
      expect(new Set(asyncTicks).size).toBeGreaterThan(2);

      const unixTicks: number[] = [];
      for await (const _ of unixAsync({ netns: netns() })) {
        unixTicks.push(ticks);
        busy(0.02);
      }
      expect(unixTicks).toHaveLength(2 * UNIX_PAIRS);
      expect(new Set(unixTicks).size).toBeGreaterThan(2);
    } finally {
      clearInterval(timer);
    }
  });

  describe('a SockDiag after a dump the consumer stopped early', () => {
    it('runs the next synchronous UNIX dump in full', () => {
      using diag = SockDiag.open({ netns: netns() });
      for (const _ of diag.unix()) break;
      expect([...diag.unix()]).toHaveLength(2 * UNIX_PAIRS);
    });

    it('runs the next synchronous INET dump in full', () => {
      using diag = SockDiag.open({ netns: netns() });
      for (const _ of diag.inet({ family: 'inet' })) break;
      expect([...diag.inet({ family: 'inet' })]).toHaveLength(2 * CONNECTIONS + 1);
    });

    it('runs the next dump in full after an async dump stopped early', async () => {
      using diag = SockDiag.open({ netns: netns() });
      for await (const _ of diag.unixAsync()) break;
      expect(await collect(diag.unixAsync())).toHaveLength(2 * UNIX_PAIRS);
      for await (const _ of diag.inetAsync({ family: 'inet' })) break;
      expect([...diag.inet({ family: 'inet' })]).toHaveLength(2 * CONNECTIONS + 1);
    });

    it('answers a lookup right after a dump stopped early', () => {
      using diag = SockDiag.open({ netns: netns() });
      let first: UnixSocket | undefined;
      for (const s of diag.unix()) {
        first = s;
        break;
      }
      expect(diag.unixLookup(first!.inode)?.inode).toBe(first!.inode);
    });
  });
});
