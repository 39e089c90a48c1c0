/**
 * Resource hygiene: 10,000 open / dump / close cycles (inside a namespace, so the
 * setns path runs each time; sync and async dumps, SockDiag and the one-shot
 * functions; UNIX dumps each cycle, TCP every 20th since each INET dump walks the
 * kernel's whole established hash table), 1,000 failed opens with namespaces that do not exist or are no
 * namespace, and 1,000 opens refused with EPERM (as nobody, a separate process) leave
 * the open descriptors and, after full garbage collections, the heap and array
 * buffers where they were. Each runs in a child process with --expose-gc
 * (test/hardening/lib/hygiene-child.mjs) against a private build of the package;
 * the numbers are printed for the record.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasCommand, Holder, kernelTestsSkipReason, Netns } from '../helpers/netns.js';
import { REPO } from '../fuzz/core.js';
import { AS_NOBODY, nobodyCannotRead, privateBuild, type PrivateBuild } from './lib/private-build.js';

const CHILD = join(REPO, 'test/hardening/lib/hygiene-child.mjs');
/** Growth allowed after full GCs: well under 100 bytes per cycle over 10,000 cycles. */
const HEAP_SLACK = 1 << 20;

interface Measured {
  mode: string;
  count: number;
  uid: number;
  ms: number;
  sockets: number;
  errors: Record<string, number>;
  fds: [number, number];
  heapUsed: [number, number];
  heapUsedHalfway: number;
  arrayBuffers: [number, number];
  external: [number, number];
  rss: [number, number];
}

const skipReason = kernelTestsSkipReason();
if (skipReason) console.warn(`test/hardening/hygiene.test.ts skipped: ${skipReason}`);

describe.skipIf(!!skipReason)(`resource hygiene${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let build: PrivateBuild;
  let ns: Netns;
  let holder: Holder;
  const results: Measured[] = [];

  beforeAll(async () => {
    build = privateBuild('hygiene');
    ns = Netns.create('hygiene');
    holder = await Holder.start(ns, 'node');
    const l = await holder.request<{ sock: string }>('listen', { host: '127.0.0.1' });
    for (let i = 0; i < 3; i++) await holder.request('connect', { listener: l.sock, host: '127.0.0.1' });
  }, 120_000);

  afterAll(async () => {
    await holder?.stop();
    ns?.delete();
    build?.cleanup();
    const mib = (n: number) => `${(n / 2 ** 20).toFixed(2)} MiB`;
    for (const r of results) {
      console.log(
        `hygiene ${r.mode} x${r.count} (uid ${r.uid}, ${r.ms} ms): fds ${r.fds[0]} -> ${r.fds[1]}; heap ${mib(r.heapUsed[0])} -> ${mib(r.heapUsedHalfway)} (halfway) -> ${mib(r.heapUsed[1])}; ` +
          `array buffers ${mib(r.arrayBuffers[0])} -> ${mib(r.arrayBuffers[1])}; rss ${mib(r.rss[0])} -> ${mib(r.rss[1])}; errors ${JSON.stringify(r.errors)}`,
      );
    }
  });

  function child(mode: string, count: number, asNobody = false): Measured {
    const cmd = [...(asNobody ? AS_NOBODY : []), process.execPath, '--expose-gc', CHILD, build.library, mode, String(count), ns.name];
    const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) throw new Error(`hygiene child ${mode} failed (${r.status ?? r.signal}):\n${r.stderr}${r.stdout}`);
    const m = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Measured;
    results.push(m);
    return m;
  }

  function expectFlat(m: Measured): void {
    expect(m.fds[1], `open descriptors after ${m.count} ${m.mode}`).toBe(m.fds[0]);
    expect(m.heapUsed[1] - m.heapUsed[0], `heap growth after ${m.count} ${m.mode}`).toBeLessThan(HEAP_SLACK);
    // What a leak would show: the second half growing like the first. Warm-up (compiled code, caches) happens early.
    expect(m.heapUsed[1] - m.heapUsedHalfway, `heap growth in the second half of ${m.count} ${m.mode}`).toBeLessThan(HEAP_SLACK / 2);
    expect(m.arrayBuffers[1] - m.arrayBuffers[0], `array-buffer growth after ${m.count} ${m.mode}`).toBeLessThan(HEAP_SLACK);
  }

  it('10,000 open / dump / close cycles', () => {
    const m = child('cycles', 10_000);
    // The TCP dumps (one cycle in 20) see 3 connections (6 sockets) and the listener.
    expect(m.sockets).toBeGreaterThanOrEqual((10_000 / 20) * 7);
    expectFlat(m);
  }, 120_000);

  it('1,000 failed opens: namespaces that do not exist or are no namespace', () => {
    const m = child('bad-netns', 1_000);
    expect(Object.values(m.errors).reduce((a, b) => a + b, 0)).toBe(1_000 + 250); // and the warm-up
    expect(Object.keys(m.errors)).toEqual(expect.arrayContaining(['SyscallError ENOENT', 'SyscallError EINVAL', 'TypeError']));
    expectFlat(m);
  }, 60_000);

  it.runIf(hasCommand('setpriv'))('1,000 opens refused with EPERM, as nobody', (ctx) => {
    const unreadable = nobodyCannotRead(build);
    if (unreadable) ctx.skip(unreadable);
    const m = child('eperm', 1_000, true);
    expect(m.uid).toBe(65534);
    expect(m.errors).toEqual({ 'SyscallError EPERM': 1_000 + 250 });
    expectFlat(m);
  }, 60_000);
});
