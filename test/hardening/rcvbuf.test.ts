/**
 * Receive-buffer pressure: a namespace with 100,000 established TCP sockets (held by
 * the benchmark's C holder, bench/holder.c) and 20,000 UNIX sockets, dumped through a
 * netlink socket whose receive buffer is deliberately tiny (`SockDiag.open({ rcvbuf:
 * 4096 })`, and the kernel's minimum). The result must be complete (the same count,
 * the same cookies, as a normal dump and as the holders opened) or a clear
 * SyscallError ENOBUFS: never a silently shorter list.
 *
 * SOCKDIAG_HARDENING_SOCKETS=20000 runs it with fewer TCP sockets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetlinkProtocol } from '../../generated/netlink.js';
import { SockDiag } from '../../query/session.js';
import type { InetQuery } from '../../query/types.js';
import { SyscallError } from '../../runtime/errors.js';
import { NetlinkSocket } from '../../runtime/netlink-socket.js';
import { Holder, kernelTestsSkipReason, Netns } from '../helpers/netns.js';
import { gccMissing, removeCompiled } from './lib/c-tools.js';
import { holdSockets, type Workload } from './lib/workload.js';

const SOCKETS = Number(process.env.SOCKDIAG_HARDENING_SOCKETS ?? 100_000);
const UNIX_PAIRS = 10_000;
const skipReason = kernelTestsSkipReason() ?? gccMissing;
if (skipReason) console.warn(`test/hardening/rcvbuf.test.ts skipped: ${skipReason}`);

type Result = { count: number; unique: number; error?: undefined } | { error: SyscallError };

describe.skipIf(!!skipReason)(`receive-buffer pressure (${SOCKETS.toLocaleString('en-US')} TCP + ${(2 * UNIX_PAIRS).toLocaleString('en-US')} UNIX sockets)${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let ns: Netns;
  let tcp: Workload;
  const unixHolders: Holder[] = [];
  const log: string[] = [];

  beforeAll(async () => {
    ns = Netns.create('rcvbuf');
    tcp = await holdSockets(ns.name, SOCKETS);
    // Two holders: 20,000 descriptors would meet the open-file limit of one process.
    for (let i = 0; i < 2; i++) {
      const h = await Holder.start(ns, 'python');
      unixHolders.push(h);
      await h.request('many-pairs', { count: UNIX_PAIRS / 2 });
    }
    log.push(`setup: ${tcp.sockets} TCP sockets + ${tcp.listeners} listeners in ${(tcp.setupMs / 1000).toFixed(1)} s, ${2 * UNIX_PAIRS} UNIX sockets`);
  }, 300_000);

  afterAll(async () => {
    await tcp?.stop();
    await Promise.all(unixHolders.map((h) => h.stop()));
    ns?.delete();
    removeCompiled();
    if (log.length) console.log(`rcvbuf.test.ts:\n  ${log.join('\n  ')}`);
  });

  /** Dumps with `rcvbuf` (undefined: the default) and returns the count and distinct cookies, or the SyscallError. */
  async function dump(kind: 'inet' | 'inetAsync' | 'unix' | 'unixAsync', rcvbuf: number | undefined, q: InetQuery = {}): Promise<Result> {
    const t0 = performance.now();
    const diag = SockDiag.open({ netns: ns.spec, rcvbuf });
    const cookies = new Set<bigint>();
    let count = 0;
    try {
      if (kind === 'inet') for (const s of diag.inet(q)) (count++, cookies.add(s.cookie));
      else if (kind === 'unix') for (const s of diag.unix()) (count++, cookies.add(s.cookie));
      else if (kind === 'inetAsync') for await (const s of diag.inetAsync(q)) (count++, cookies.add(s.cookie));
      else for await (const s of diag.unixAsync()) (count++, cookies.add(s.cookie));
    } catch (e) {
      if (e instanceof SyscallError && e.code === 'ENOBUFS') {
        log.push(`${kind} rcvbuf ${rcvbuf}: ${e.message}`);
        return { error: e };
      }
      throw e;
    } finally {
      diag.close();
    }
    log.push(`${kind}${q.ext ? ` ext ${q.ext.join(',')}` : ''} rcvbuf ${rcvbuf ?? 'default'}: ${count} sockets in ${(performance.now() - t0).toFixed(0)} ms`);
    return { count, unique: cookies.size };
  }

  it('the kernel gives a receive buffer that small (SO_RCVBUF 4096 is doubled to 8192; 1 gives the minimum)', () => {
    for (const [asked, most] of [
      [4096, 8192],
      [1, 8192],
    ] as const) {
      using s = NetlinkSocket.open(NetlinkProtocol['sock-diag'], { netns: ns.spec, rcvbuf: asked });
      expect(s.getReceiveBuffer()).toBeLessThanOrEqual(most);
    }
  });

  it('a normal TCP dump lists every socket the holders opened, each once', async () => {
    const r = await dump('inet', undefined);
    expect(r.error).toBeUndefined();
    if (r.error) return;
    expect(r.count).toBe(tcp.expected);
    expect(r.unique).toBe(r.count);
  });

  const cases: [string, 'inet' | 'inetAsync' | 'unix' | 'unixAsync', number, InetQuery?][] = [
    ['TCP, sync, rcvbuf 4096', 'inet', 4096],
    ['TCP, sync, rcvbuf 4096, with tcp_info, meminfo, skmeminfo and cong (bigger messages)', 'inet', 4096, { ext: ['info', 'meminfo', 'skmeminfo', 'cong'] }],
    ['TCP, async iterator, rcvbuf 4096', 'inetAsync', 4096],
    ['TCP, sync, rcvbuf 1 (the kernel minimum)', 'inet', 1],
    ['UNIX, sync, rcvbuf 4096', 'unix', 4096],
    ['UNIX, async iterator, rcvbuf 4096', 'unixAsync', 4096],
  ];

  it.each(cases)('%s: the same sockets as a normal dump, or SyscallError ENOBUFS', async (_label, kind, rcvbuf, q) => {
    const normal = await dump(kind.startsWith('unix') ? 'unix' : 'inet', undefined, q);
    if (normal.error) throw normal.error;
    if (!kind.startsWith('unix')) expect(normal.count).toBe(tcp.expected);
    else expect(normal.count).toBeGreaterThanOrEqual(2 * UNIX_PAIRS);
    const small = await dump(kind, rcvbuf, q);
    if (small.error) {
      // Allowed: a clear error, naming ENOBUFS.
      expect(small.error.message).toMatch(/ENOBUFS/);
      return;
    }
    expect(small.count, 'a small receive buffer must not lose sockets silently').toBe(normal.count);
    expect(small.unique).toBe(small.count);
  }, 120_000);
});
