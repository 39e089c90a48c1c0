/**
 * The reader thread against the real kernel: dumps it receives give exactly what
 * the socket's own reads give (sync and async, with a slow consumer that fills
 * every slot), it stops cleanly when the consumer stops early or closes the socket,
 * it passes kernel errors through, and it never keeps a process alive.
 */
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readerThreadReady, readerThreadStats } from '../../runtime/reader-thread.js';
import { SLOTS } from '../../runtime/reader-layout.js';
import { SockDiag } from '../../query/index.js';
import { LARGE_DUMP_SOCKETS, socketsInUse } from '../../query/large-dump.js';
import { closeInTheMiddle, EXT, kernelErrorThenWhole, key, openManySockets, slowConsumer, viewsDump, wholeDump, type ManySockets } from '../helpers/many-sockets.js';
import { kernelTestsSkipReason, type Netns, REPO } from '../helpers/netns.js';

const skipReason = kernelTestsSkipReason();
if (skipReason) console.warn(`test/runtime/reader-thread.test.ts skipped: ${skipReason}`);

describe.skipIf(!!skipReason)(`the reader thread in a private network namespace${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let fixture: ManySockets;
  let ns: Netns;
  let expected: string[];

  beforeAll(async () => {
    fixture = await openManySockets('reader');
    ({ ns, expected } = fixture);
    await readerThreadReady();
  });

  afterAll(async () => {
    await fixture?.close();
  });

  it('receives a dump of many datagrams that decodes to what the socket reads itself', () => {
    wholeDump(fixture, readerThreadStats, SLOTS);
  });

  it('waits for the consumer when every slot is full, and loses nothing', () => {
    slowConsumer(fixture);
  });

  it('serves a dump read through views: each reads its socket while its slot holds it, and throws after', () => {
    viewsDump(fixture, readerThreadStats, SLOTS);
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
    closeInTheMiddle(fixture, () => readerThreadStats().jobs);
  });

  it('passes a kernel error through, and stays usable', () => {
    kernelErrorThenWhole(fixture);
  });

  it('does not keep a process alive once its work is done', () => {
    const script = `
      import { readerThreadReady, readerThreadStats } from './runtime/reader-thread.ts';
      import { SockDiag } from './query/index.ts';
      await readerThreadReady();
      const diag = SockDiag.open({ netns: { name: ${JSON.stringify(ns.name)} } });
      let n = 0;
      for (const _ of diag.inet({ ext: ['info'] })) n++;
      for await (const _ of diag.inetAsync({ ext: ['info'] })) n++;
      console.log(n, readerThreadStats().jobs);`;
    const started = performance.now();
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO, encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // Both dumps went through the thread (a program run with --input-type once got none).
    expect(r.stdout.trim()).toBe(`${2 * expected.length} 2`);
    expect(performance.now() - started).toBeLessThan(15_000);
  });

  it('starts in a program run as node --input-type=module -e, whose option a worker refuses; from the package entry (dist/lib)', () => {
    const script = `
      import { SockDiag, readerThreadReady, readerThreadStats } from 'sockdiag';
      await readerThreadReady();
      const diag = SockDiag.open({ netns: { name: ${JSON.stringify(ns.name)} } });
      let n = 0;
      for (const _ of diag.inet({ ext: ['info'] })) n++;
      console.log(n, readerThreadStats().jobs);`;
    // Run from the repository, 'sockdiag' is the package itself (its exports: the bundle in dist/lib).
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO, encoding: 'utf8', timeout: 30_000 });
    expect([r.status, r.stdout.trim(), r.stderr]).toEqual([0, `${expected.length} 1`, '']);
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
