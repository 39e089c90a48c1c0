// Run by test/hardening/hygiene.test.ts in a child process with --expose-gc, against
// a private build of the library (plain JavaScript, so that it also runs as nobody):
//
//   node --expose-gc hygiene-child.mjs LIBRARY MODE COUNT NETNS
//
// MODE cycles:    COUNT times SockDiag.open / dump / close: UNIX dumps every time (sync
//                 and async in turn, every 10th through the one-shot function), TCP dumps
//                 every 20th (sync, async, one-shot);
// MODE bad-netns: COUNT failed opens with namespaces that do not exist or cannot be one;
// MODE eperm:     COUNT opens of NETNS, which fail with EPERM when run as nobody.
//
// Measures the open descriptors (/proc/self/fd) and, after full garbage collections,
// the heap and array buffers, before (after a warm-up), halfway and after; prints one
// JSON line.
import { readdirSync } from 'node:fs';

const [library, mode, countText, netns] = process.argv.slice(2);
const count = Number(countText);
const { SockDiag, inet, unix } = await import(library);

const fds = () => readdirSync('/proc/self/fd').length;
function collect() {
  for (let i = 0; i < 6; i++) globalThis.gc();
}
const errors = {};
const note = (e) => {
  const key = `${e?.name}${e?.code ? ` ${e.code}` : ''}`;
  errors[key] = (errors[key] ?? 0) + 1;
  return e;
};

const BAD = [
  (i) => ({ name: `sockdiag-hardening-missing-${i}` }),
  () => ({ name: '' }),
  () => ({ name: '..' }),
  () => ({ name: 'a/b' }),
  () => ({ path: '/etc/hostname' }),
  () => ({ path: '/proc/self' }),
  (i) => ({ path: `/nonexistent/${i}` }),
  () => ({ pid: 2 ** 31 - 1 }),
  () => ({ pid: -1 }),
];

let sockets = 0;
async function once(i) {
  if (mode === 'cycles') {
    // Every cycle dumps UNIX sockets; every 20th also TCP (an INET dump walks the kernel's
    // whole established hash table, a few ms however few sockets there are).
    const spec = { netns: { name: netns } };
    const tcp = { protocol: 'tcp', family: 'inet' };
    if (i % 10 === 5) {
      for (const _ of unix(spec)) sockets++;
      if (i % 20 === 5) for (const _ of inet({ ...spec, ...tcp })) sockets++;
      return;
    }
    const diag = SockDiag.open(spec);
    try {
      if (i % 2 === 0) for await (const _ of diag.unixAsync()) sockets++;
      else for (const _ of diag.unix()) sockets++;
      if (i % 20 === 0) for (const _ of diag.inet(tcp)) sockets++;
      if (i % 20 === 10) for await (const _ of diag.inetAsync(tcp)) sockets++;
    } finally {
      diag.close();
    }
  } else if (mode === 'bad-netns') {
    const spec = BAD[i % BAD.length](i);
    try {
      // Half through SockDiag.open, half through a one-shot dump, which opens on first next().
      if (i % 2) SockDiag.open({ netns: spec }).close();
      else for (const _ of inet({ netns: spec }));
      throw new Error(`opened ${JSON.stringify(spec)}`);
    } catch (e) {
      note(e);
      if (!(e instanceof TypeError || e?.name === 'SyscallError')) throw e;
    }
  } else if (mode === 'eperm') {
    try {
      SockDiag.open({ netns: { name: netns } }).close();
      throw new Error('entered another namespace without CAP_SYS_ADMIN');
    } catch (e) {
      note(e);
      if (e?.code !== 'EPERM') throw e;
    }
  } else throw new Error(`unknown mode ${mode}`);
}

const warmup = Math.min(500, Math.ceil(count / 4));
for (let i = 0; i < warmup; i++) await once(i);
collect();
const before = { fds: fds(), ...process.memoryUsage() };
const t0 = performance.now();
let mid;
for (let i = 0; i < count; i++) {
  if (i === count >> 1) {
    collect();
    mid = { fds: fds(), ...process.memoryUsage() };
  }
  await once(i + warmup);
}
const ms = performance.now() - t0;
collect();
const after = { fds: fds(), ...process.memoryUsage() };
console.log(
  JSON.stringify({
    mode,
    count,
    uid: process.getuid(),
    ms: Math.round(ms),
    sockets,
    errors,
    fds: [before.fds, after.fds],
    heapUsed: [before.heapUsed, after.heapUsed],
    heapUsedHalfway: mid.heapUsed,
    arrayBuffers: [before.arrayBuffers, after.arrayBuffers],
    external: [before.external, after.external],
    rss: [before.rss, after.rss],
  }),
);
