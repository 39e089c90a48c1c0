/**
 * What dumps do when the system calls under them fail, against the real kernel: each
 * case runs in a child process (over dist/) under strace, whose fault injection makes
 * the named system calls fail (only those are traced). io_uring refused at set-up (as
 * container seccomp profiles refuse it) leaves the reader thread; a refused submission
 * retires the ring; a receive that fails in the middle of a dump fails that dump with
 * the error, and the socket still takes the next one (the kernel refuses a new dump
 * with EBUSY while the old one runs); a failed move back from a namespace is tried
 * again, and a thread that cannot move back refuses every later query.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InetSocket } from '../../query/index.js';
import type { RingReceiverStats } from '../../runtime/ring-receive.js';
import { EXT, key, openManySockets, type ManySockets } from '../helpers/many-sockets.js';
import { hasCommand, kernelTestsSkipReason, REPO } from '../helpers/netns.js';

const skipReason = kernelTestsSkipReason() ?? (hasCommand('strace') ? undefined : 'needs strace (its fault injection makes the system calls fail)');
if (skipReason) console.warn(`test/runtime/failed-receive.test.ts skipped: ${skipReason}`);

/** What a child's dump gives: its sockets (the fields {@link key} reads), or the error that stopped it. */
type Outcome = InetSocket[] | { error: string; code: string };

describe.skipIf(!!skipReason)(`dumps when a system call fails, in a private network namespace${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let fixture: ManySockets;
  let expected: string[];

  beforeAll(async () => {
    fixture = await openManySockets('fault');
    ({ expected } = fixture);
  });

  afterAll(async () => {
    await fixture?.close();
  });

  /** A system call that fails with `error` at its `when`-th call (strace counts each thread's calls apart). */
  interface Fault {
    syscall: string;
    error: string;
    /** strace's expression: `2` (the second call only), `2+` (from the second on). */
    when: number | string;
  }

  /**
   * Runs `body` in a node process whose system calls fail as `faults` say; returns what
   * the body printed, parsed as JSON. The body has the library's exports as `lib`, the
   * fixture's namespace as `netns`, `diag` (a SockDiag of it, opened with `options`;
   * none for null), and `dump()` / `dumpAsync()`, which give an {@link Outcome}.
   */
  function underFault(faults: Fault[], options: string | null, body: string): Record<string, unknown> {
    const script = `
      import * as lib from ${JSON.stringify(`${REPO}/dist/query/index.js`)};
      const netns = { name: ${JSON.stringify(fixture.ns.name)} };
      ${options === null ? '' : `const diag = lib.SockDiag.open({ netns, ${options} });`}
      const pick = ({ family, state, src, sport, dst, dport, inode, cookie, info }) => ({ family, state, src, sport, dst, dport, inode, cookie: String(cookie), info: { sndMss: info?.sndMss } });
      const failed = (e) => ({ error: e.message, code: e.code });
      const dump = () => { try { return [...diag.inet({ ext: ${JSON.stringify(EXT)} })].map(pick); } catch (e) { return failed(e); } };
      const dumpAsync = async () => { const out = []; try { for await (const s of diag.inetAsync({ ext: ${JSON.stringify(EXT)} })) out.push(pick(s)); return out; } catch (e) { return failed(e); } };
      ${body}`;
    const inject = faults.flatMap(({ syscall, error, when }) => ['-e', `inject=${syscall}:error=${error}:when=${when}`]);
    const strace = ['-f', '--seccomp-bpf', '-qq', '-o', '/dev/null', '-e', `trace=${faults.map((f) => f.syscall).join(',')}`, ...inject];
    const r = spawnSync('strace', [...strace, process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 << 20 });
    expect([r.status, r.signal, r.stderr]).toEqual([0, null, '']);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  }

  const whole = (o: unknown) => expect((o as InetSocket[]).map(key).sort()).toEqual(expected);

  it('falls back to the reader thread where io_uring_setup is refused, as container seccomp profiles do', () => {
    const out = underFault([{ syscall: 'io_uring_setup', error: 'EPERM', when: 1 }], '', `
      const ring = lib.startRingReceiver();
      await lib.readerThreadReady();
      const sockets = dump();
      console.log(JSON.stringify({ ring, stats: lib.ringReceiverStats(), threadJobs: lib.readerThreadStats().jobs, sockets }));`);
    expect([out.ring, (out.stats as RingReceiverStats).available, (out.stats as RingReceiverStats).jobs, out.threadJobs]).toEqual([false, false, 0, 1]);
    whole(out.sockets);
  });

  it('retires the ring when the kernel refuses a submission, and the dump still comes whole', () => {
    const out = underFault([{ syscall: 'io_uring_enter', error: 'ENOMEM', when: 1 }], 'readerThread: true', `
      const ring = lib.startRingReceiver();
      const first = dump();
      const stats = lib.ringReceiverStats();
      const second = dump();
      console.log(JSON.stringify({ ring, stats, after: lib.ringReceiverStats(), first, second }));`);
    expect(out.ring).toBe(true);
    expect(out.stats).toEqual({ available: false, jobs: 1, datagrams: 0, retired: expect.stringContaining('ENOMEM') });
    whole(out.first);
    // The retired ring takes no more dumps: the socket reads them.
    expect(out.after).toEqual(out.stats);
    whole(out.second);
  });

  it('fails a dump whose wait on the ring fails, and the socket and the ring take the next dumps', () => {
    const out = underFault([{ syscall: 'io_uring_enter', error: 'ENOMEM', when: 2 }], 'readerThread: true', `
      lib.startRingReceiver();
      const first = dump();
      console.log(JSON.stringify({ first, second: dump(), third: await dumpAsync(), stats: lib.ringReceiverStats() }));`);
    expect(out.first).toEqual({ error: expect.stringContaining('io_uring_enter failed with ENOMEM'), code: 'ENOMEM' });
    whole(out.second);
    whole(out.third);
    expect((out.stats as RingReceiverStats).jobs).toBe(3);
  });

  it('retires the ring and refuses the socket, saying why, when its wait fails and so does the wait for what is in flight', () => {
    const out = underFault([{ syscall: 'io_uring_enter', error: 'ENOMEM', when: '2..3' }], 'readerThread: true', `
      lib.startRingReceiver();
      const first = dump();
      const stats = lib.ringReceiverStats();
      const second = dump();
      // Another socket: the socket's own reads take its dumps.
      const other = lib.SockDiag.open({ netns });
      const pickAll = (it) => [...it].map(pick);
      const third = pickAll(other.inet({ ext: ${JSON.stringify(EXT)} }));
      const fourth = [];
      for await (const s of other.inetAsync({ ext: ${JSON.stringify(EXT)} })) fourth.push(pick(s));
      console.log(JSON.stringify({ first, stats, second, third, fourth, after: lib.ringReceiverStats() }));`);
    expect(out.first).toEqual({ error: expect.stringContaining('io_uring_enter failed with ENOMEM'), code: 'ENOMEM' });
    // Receives may still be in flight into its slots, and may take the socket's datagrams:
    // the ring takes no more dumps, and the socket no more requests; both say why.
    expect(out.stats).toMatchObject({ available: false, jobs: 1, retired: expect.stringMatching(/waiting for its receives in flight failed: .*ENOMEM/) });
    expect(out.second).toEqual({ error: expect.stringMatching(/takes no more requests: receives on it could not be stopped .*ENOMEM.*open another one/) });
    expect(out.after).toEqual(out.stats);
    whole(out.third);
    whole(out.fourth);
  });

  it("fails a dump whose socket's own receive fails in the middle, and the socket takes the next dumps", () => {
    // The seventh recvfrom: the peek before the fourth datagram (each is peeked, then read).
    const out = underFault([{ syscall: 'recvfrom', error: 'ENOMEM', when: 7 }], 'readerThread: false', `
      const first = dump();
      console.log(JSON.stringify({ first, second: dump(), third: await dumpAsync() }));`);
    expect(out.first).toEqual({ error: expect.stringContaining('recvfrom failed with ENOMEM'), code: 'ENOMEM' });
    whole(out.second);
    whole(out.third);
  });

  it('does the same for a dump read on the event loop', () => {
    const out = underFault([{ syscall: 'recvfrom', error: 'ENOMEM', when: 7 }], 'readerThread: false', `
      const first = await dumpAsync();
      console.log(JSON.stringify({ first, second: await dumpAsync(), third: dump() }));`);
    expect(out.first).toEqual({ error: expect.stringContaining('recvfrom failed with ENOMEM'), code: 'ENOMEM' });
    whole(out.second);
    whole(out.third);
  });

  it("fails a dump whose reader thread's receive fails, and the socket takes the next dumps", () => {
    // io_uring refused, so the thread takes the dumps. strace counts calls per thread:
    // the thread's fifth recvfrom fails, and so does the fifth of this thread, which
    // falls in the middle of reading the failed dump's rest away.
    const out = underFault([{ syscall: 'io_uring_setup', error: 'EPERM', when: 1 }, { syscall: 'recvfrom', error: 'ENOMEM', when: 5 }], 'readerThread: true', `
      await lib.readerThreadReady();
      const first = dump();
      console.log(JSON.stringify({ first, second: dump(), third: await dumpAsync(), jobs: lib.readerThreadStats().jobs }));`);
    expect(out.first).toEqual({ error: expect.stringContaining('receiving on the reader thread: recvfrom failed with ENOMEM'), code: 'ENOMEM' });
    whole(out.second);
    whole(out.third);
    expect(out.jobs).toBe(3);
  });

  it('lets a caller stop a dump early even when a receive fails while the rest is read away', () => {
    // The consumer stops after 100 sockets (two datagrams); the tenth recvfrom falls in the drain.
    const out = underFault([{ syscall: 'recvfrom', error: 'ENOMEM', when: 10 }], 'readerThread: false', `
      const stop = () => { try { let n = 0; for (const _ of diag.inet({ ext: ${JSON.stringify(EXT)} })) if (++n === 100) break; return n; } catch (e) { return failed(e); } };
      const early = stop();
      console.log(JSON.stringify({ early, next: dump() }));`);
    expect(out.early).toBe(100);
    whole(out.next);
  });

  it('tries again to move back from a namespace, and refuses every later query once it cannot', () => {
    const script = (count: string) => `
      import { readlinkSync } from 'node:fs';
      const home = readlinkSync('/proc/thread-self/ns/net');
      const attempt = (f) => { try { return f(); } catch (e) { return failed(e); } };
      const opened = attempt(() => (lib.SockDiag.open({ netns }).close(), 'opened'));
      console.log(JSON.stringify({ opened, home: readlinkSync('/proc/thread-self/ns/net') === home, later: attempt(${count}) }));`;
    // The first move back fails once: tried again, it works.
    const once = underFault([{ syscall: 'setns', error: 'ENOMEM', when: 2 }], null, script('() => [...lib.unix()].length'));
    expect(once).toMatchObject({ opened: 'opened', home: true, later: expect.any(Number) });
    // Every move back fails: the thread stays in the namespace, and a query of "this" namespace refuses.
    const always = underFault([{ syscall: 'setns', error: 'ENOMEM', when: '2+' }], null, script('() => [...lib.inet()].length'));
    const stranded = { error: expect.stringMatching(/^returning from network namespace ".*" to this thread's own network namespace failed 3 times; .* every later query refuses: setns failed with ENOMEM/), code: 'ENOMEM' };
    expect(always).toEqual({ opened: stranded, home: false, later: stranded });
  });

});
