/**
 * The io_uring receiver against the real kernel: blocking dumps it receives give
 * exactly what the socket's own reads give (with a slow consumer that fills every
 * slot too), it stops cleanly when the consumer stops early or closes the socket, it
 * passes kernel errors through, drops datagrams other processes send (a big one
 * included), serves dumps read on the event loop without holding it, and never
 * keeps a process alive.
 */
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetlinkError, SyscallError } from '../../runtime/errors.js';
import { readerThreadStats } from '../../runtime/reader-thread.js';
import { SLOTS as RING_SLOTS, ringReceiverStats, startRingReceiver } from '../../runtime/ring-receive.js';
import { encodeSockaddrNl, NetlinkProtocol } from '../../generated/netlink.js';
import { AddressFamily } from '../../generated/socket.js';
import * as libc from '../../runtime/libc.js';
import { NetlinkSocket } from '../../runtime/netlink-socket.js';
import { SockDiag, type InetSocket } from '../../query/index.js';
import { Holder, kernelTestsSkipReason, Netns, REPO } from '../helpers/netns.js';

const skipReason = kernelTestsSkipReason() ?? (startRingReceiver() ? undefined : 'io_uring is not available here (io_uring_setup failed)');
if (skipReason) console.warn(`test/runtime/ring-receive.test.ts skipped: ${skipReason}`);

const CONNECTIONS = 2500;
/** With these extensions a datagram holds about 70 sockets: 5,001 sockets span more datagrams than the ring has slots. */
const EXT = ['info', 'meminfo', 'skmeminfo', 'cong'] as const;

const key = (s: InetSocket) => `${s.family} ${s.state} ${s.src}:${s.sport} ${s.dst}:${s.dport} ino:${s.inode} cookie:${s.cookie} mss:${s.info?.sndMss}`;

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

describe.skipIf(!!skipReason)(`the io_uring receiver in a private network namespace${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let ns: Netns;
  let holder: Holder;
  let expected: string[];

  beforeAll(async () => {
    ns = Netns.create('ring');
    holder = await Holder.start(ns, 'node');
    const listener = await holder.request<{ sock: number }>('listen', { host: '127.0.0.1', backlog: 1024 });
    await holder.request('many', { listener: listener.sock, host: '127.0.0.1', count: CONNECTIONS });
    using diag = SockDiag.open({ netns: ns.spec, readerThread: false });
    expected = [...diag.inet({ ext: [...EXT] })].map(key).sort();
  });

  afterAll(async () => {
    await holder?.stop();
    ns?.delete();
  });

  it('receives a dump of many datagrams that decodes to what the socket reads itself', () => {
    expect(expected).toHaveLength(2 * CONNECTIONS + 1);
    const before = ringReceiverStats();
    using diag = SockDiag.open({ netns: ns.spec });
    const got = [...diag.inet({ ext: [...EXT] })].map(key).sort();
    const after = ringReceiverStats();
    expect(got).toEqual(expected);
    expect(after.jobs - before.jobs).toBe(1);
    expect(after.datagrams - before.datagrams).toBeGreaterThan(RING_SLOTS);
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

  it('stops when the consumer stops early, leaving the socket ready for the next dump', () => {
    using diag = SockDiag.open({ netns: ns.spec });
    let n = 0;
    for (const _ of diag.inet({ ext: [...EXT] })) if (++n === 100) break;
    const before = ringReceiverStats();
    expect([...diag.inet({ ext: [...EXT] })].map(key).sort()).toEqual(expected);
    expect(ringReceiverStats().jobs - before.jobs).toBe(1);
  });

  it('lets go of the descriptor when the socket is closed in the middle of a dump', () => {
    const diag = SockDiag.open({ netns: ns.spec });
    let n = 0;
    expect(() => {
      for (const _ of diag.inet({ ext: [...EXT] })) if (++n === 10) diag.close();
    }).toThrow(SyscallError);
    expect(n).toBeGreaterThanOrEqual(10);
    expect(n).toBeLessThan(expected.length);
    // The ring is free again: the next socket's dump is handed to it.
    const before = ringReceiverStats();
    using next = SockDiag.open({ netns: ns.spec });
    expect([...next.inet({ ext: [...EXT] })].map(key).sort()).toEqual(expected);
    expect(ringReceiverStats().jobs - before.jobs).toBe(1);
  });

  it('passes a kernel error through, and stays usable', () => {
    using diag = SockDiag.open({ netns: ns.spec });
    // A filter program whose jump runs past its end: the kernel refuses it with EINVAL.
    const bad = new Uint8Array([1, 4, 200, 0]);
    expect(() => [...diag.inet({ bytecode: bad })]).toThrow(NetlinkError);
    expect([...diag.inet({ ext: [...EXT] })].map(key).sort()).toEqual(expected);
  });

  it('drops datagrams from other processes queued ahead of the reply, one bigger than a slot included', () => {
    using diag = SockDiag.open({ netns: ns.spec });
    const ours = (diag as unknown as { socket: NetlinkSocket }).socket;
    using other = NetlinkSocket.open(NetlinkProtocol['sock-diag'], { netns: ns.spec });
    const to = encodeSockaddrNl({ family: AddressFamily.netlink, pad: 0, pid: ours.portId, groups: 0 });
    // A whole fake reply (the first request's sequence number, 1), ending in NLMSG_DONE.
    const fake = new Uint8Array(100_000);
    const v = new DataView(fake.buffer);
    v.setUint32(0, 20, true);
    v.setUint16(4, 3, true);
    v.setUint16(6, 2, true);
    v.setUint32(8, 1, true);
    v.setUint32(12, ours.portId, true);
    libc.sendto(other.fd, fake.subarray(0, 20), 0, to);
    libc.sendto(other.fd, fake, 0, to);
    const before = ringReceiverStats();
    expect([...diag.inet({ ext: [...EXT] })].map(key).sort()).toEqual(expected);
    expect(ringReceiverStats().jobs - before.jobs).toBe(1);
  });

  it('receives dumps read on the event loop too, and the event loop runs meanwhile', async () => {
    const ring = ringReceiverStats();
    const thread = readerThreadStats();
    using diag = SockDiag.open({ netns: ns.spec });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const got: string[] = [];
    try {
      for await (const s of diag.inetAsync({ ext: [...EXT] })) {
        got.push(key(s));
        // Slow enough for the ring to fill every slot and wait for this loop.
        if (got.length % 10 === 0) busy(0.2);
      }
    } finally {
      clearInterval(timer);
    }
    expect(got.sort()).toEqual(expected);
    expect(ringReceiverStats().jobs - ring.jobs).toBe(1);
    expect(ringReceiverStats().datagrams - ring.datagrams).toBeGreaterThan(RING_SLOTS);
    expect(readerThreadStats()).toEqual(thread);
    expect(ticks).toBeGreaterThan(0);
  });

  it('stops an event-loop dump early, leaving the socket ready for the next one', async () => {
    using diag = SockDiag.open({ netns: ns.spec });
    let n = 0;
    for await (const _ of diag.inetAsync({ ext: [...EXT] })) if (++n === 100) break;
    const got: string[] = [];
    for await (const s of diag.inetAsync({ ext: [...EXT] })) got.push(key(s));
    expect(got.sort()).toEqual(expected);
  });

  it('does not keep a process alive once its work is done', () => {
    const script = `
      import { SockDiag, ringReceiverStats, startRingReceiver } from ${JSON.stringify(`${REPO}/dist/query/index.js`)};
      startRingReceiver();
      const diag = SockDiag.open({ netns: { name: ${JSON.stringify(ns.name)} } });
      let n = 0;
      for (const _ of diag.inet({ ext: ['info'] })) n++;
      console.log(n, ringReceiverStats().jobs);`;
    for (let i = 0; i < 10; i++) {
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
      expect([r.status, r.signal, r.stdout.trim(), r.stderr]).toEqual([0, null, `${expected.length} 1`, '']);
    }
  });
});
