/**
 * The io_uring receiver against the real kernel: blocking dumps it receives give
 * exactly what the socket's own reads give (with a slow consumer that fills every
 * slot too), it stops cleanly when the consumer stops early or closes the socket, it
 * passes kernel errors through, drops datagrams other processes send (a big one
 * included), serves dumps read on the event loop without holding it, and never
 * keeps a process alive.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readerThreadStats } from '../../runtime/reader-thread.js';
import { SLOTS as RING_SLOTS, ringReceiverStats, startRingReceiver } from '../../runtime/ring-receive.js';
import { MmapFlags, MmapProt } from '../../generated/io_uring.js';
import { encodeSockaddrNl, NetlinkProtocol } from '../../generated/netlink.js';
import { AddressFamily } from '../../generated/socket.js';
import * as libc from '../../runtime/libc.js';
import { NetlinkSocket } from '../../runtime/netlink-socket.js';
import { SockDiag } from '../../query/index.js';
import { busy, closeInTheMiddle, EXT, kernelErrorThenWhole, key, openManySockets, slowConsumer, viewsDump, viewsDumpAsync, wholeDump, type ManySockets } from '../helpers/many-sockets.js';
import { kernelTestsSkipReason, type Netns, REPO } from '../helpers/netns.js';

const skipReason = kernelTestsSkipReason() ?? (startRingReceiver() ? undefined : 'io_uring is not available here (io_uring_setup failed)');
if (skipReason) console.warn(`test/runtime/ring-receive.test.ts skipped: ${skipReason}`);

describe.skipIf(!!skipReason)(`the io_uring receiver in a private network namespace${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let fixture: ManySockets;
  let ns: Netns;
  let expected: string[];

  beforeAll(async () => {
    fixture = await openManySockets('ring');
    ({ ns, expected } = fixture);
  });

  afterAll(async () => {
    await fixture?.close();
  });

  it('receives a dump of many datagrams that decodes to what the socket reads itself', () => {
    wholeDump(fixture, ringReceiverStats, RING_SLOTS);
  });

  it('waits for the consumer when every slot is full, and loses nothing', () => {
    slowConsumer(fixture);
  });

  it('serves a dump read through views: each reads its socket while its slot holds it, and throws after', () => {
    viewsDump(fixture, ringReceiverStats, RING_SLOTS);
  });

  it('serves a dump read through views on the event loop too', async () => {
    await viewsDumpAsync(fixture);
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
    closeInTheMiddle(fixture, () => ringReceiverStats().jobs);
  });

  it('passes a kernel error through, and stays usable', () => {
    kernelErrorThenWhole(fixture);
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

describe('mmap(2), which maps the rings', () => {
  it('maps memory the kernel places, readable and writable', () => {
    const m = libc.mmap(4096, MmapProt.read | MmapProt.write, MmapFlags.private | MmapFlags.anonymous, -1, 0);
    expect(m.address).toBeGreaterThan(0n);
    new Uint8Array(m.memory).fill(7);
    expect(new Uint8Array(m.memory)[4095]).toBe(7);
  });

  it('reports its failure (MAP_FAILED) as a SyscallError with the errno, not as an address', () => {
    // A length of 0 is EINVAL (mmap(2)).
    expect(() => libc.mmap(0, MmapProt.read, MmapFlags.private | MmapFlags.anonymous, -1, 0)).toThrow(expect.objectContaining({ syscall: 'mmap', code: 'EINVAL' }));
  });
});
