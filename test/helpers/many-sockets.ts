/**
 * The fixture of the receiver tests (reader thread, io_uring receiver): a private
 * namespace holding 2,500 loopback connections, and what a dump of it gives when the
 * socket reads it itself.
 */
import { performance } from 'node:perf_hooks';
import { expect } from 'vitest';
import { SockDiag, StaleViewError, type InetSocket, type InetSocketView } from '../../query/index.js';
import { NetlinkError, SyscallError } from '../../runtime/errors.js';
import { Holder, Netns } from './netns.js';

/** Connections opened: 5,001 TCP sockets with the listener. */
export const CONNECTIONS = 2500;
/** With these extensions a datagram holds about 70 sockets: 5,001 sockets span more datagrams than a receiver has slots. */
export const EXT = ['info', 'meminfo', 'skmeminfo', 'cong'] as const;

/** What identifies a socket of the fixture, with a tcp_info field to show the extensions came. */
export const key = (s: InetSocket): string => `${s.family} ${s.state} ${s.src}:${s.sport} ${s.dst}:${s.dport} ino:${s.inode} cookie:${s.cookie} mss:${s.info?.sndMss}`;

/** Spins for `ms` milliseconds: a consumer slower than the kernel. */
export function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

export interface ManySockets {
  ns: Netns;
  /** The keys of a dump with {@link EXT} read by the socket itself, sorted. */
  expected: string[];
  close(): Promise<void>;
}

/** Makes the namespace (`label` in its name) and its connections. */
export async function openManySockets(label: string): Promise<ManySockets> {
  const ns = Netns.create(label);
  let holder: Holder | undefined;
  try {
    holder = await Holder.start(ns, 'node');
    const listener = await holder.request<{ sock: number }>('listen', { host: '127.0.0.1', backlog: 1024 });
    await holder.request('many', { listener: listener.sock, host: '127.0.0.1', count: CONNECTIONS });
    using diag = SockDiag.open({ netns: ns.spec, readerThread: false });
    const expected = [...diag.inet({ ext: [...EXT] })].map(key).sort();
    const h = holder;
    return { ns, expected, close: async () => (await h.stop(), ns.delete()) };
  } catch (e) {
    await holder?.stop();
    ns.delete();
    throw e;
  }
}

/**
 * Closes the socket in the middle of a dump: the rest of the datagram in hand still
 * comes out, then receiving fails with EBADF; the receiver, free again, takes the next
 * socket's dump (`jobs` counts the dumps it took).
 */
export function closeInTheMiddle(m: ManySockets, jobs: () => number): void {
  const diag = SockDiag.open({ netns: m.ns.spec });
  let n = 0;
  expect(() => {
    for (const _ of diag.inet({ ext: [...EXT] })) if (++n === 10) diag.close();
  }).toThrow(SyscallError);
  expect(n).toBeGreaterThanOrEqual(10);
  expect(n).toBeLessThan(m.expected.length);
  const before = jobs();
  using next = SockDiag.open({ netns: m.ns.spec });
  expect([...next.inet({ ext: [...EXT] })].map(key).sort()).toEqual(m.expected);
  expect(jobs() - before).toBe(1);
}

/** A request the kernel refuses (a filter whose jump runs past its end: EINVAL) throws its NetlinkError; the next dump is whole. */
export function kernelErrorThenWhole(m: ManySockets): void {
  using diag = SockDiag.open({ netns: m.ns.spec });
  const bad = new Uint8Array([1, 4, 200, 0]);
  expect(() => [...diag.inet({ bytecode: bad })]).toThrow(NetlinkError);
  expect([...diag.inet({ ext: [...EXT] })].map(key).sort()).toEqual(m.expected);
}

/** A dump the receiver takes (`stats` counts its dumps and datagrams) decodes to what the socket reads itself, over more datagrams than its `slots`. */
export function wholeDump(m: ManySockets, stats: () => { jobs: number; datagrams: number }, slots: number): void {
  expect(m.expected).toHaveLength(2 * CONNECTIONS + 1);
  const before = stats();
  using diag = SockDiag.open({ netns: m.ns.spec });
  const got = [...diag.inet({ ext: [...EXT] })].map(key).sort();
  const after = stats();
  expect(got).toEqual(m.expected);
  expect(after.jobs - before.jobs).toBe(1);
  expect(after.datagrams - before.datagrams).toBeGreaterThan(slots);
}

/**
 * The dump read through views, by a consumer slower than the kernel: every view reads
 * what the socket's own reads decode, though the receiver fills every slot and reuses
 * them; a view kept from the first datagram throws once its slot has been reused.
 */
export function viewsDump(m: ManySockets, stats: () => { jobs: number; datagrams: number }, slots: number): void {
  const before = stats();
  using diag = SockDiag.open({ netns: m.ns.spec });
  const got: string[] = [];
  let first: InetSocketView | undefined;
  for (const v of diag.inetViews({ ext: [...EXT] })) {
    first ??= v;
    got.push(key(v));
    busy(0.05);
  }
  const after = stats();
  expect(got.sort()).toEqual(m.expected);
  expect(after.jobs - before.jobs).toBe(1);
  expect(after.datagrams - before.datagrams).toBeGreaterThan(slots);
  expect(() => first!.sport).toThrow(StaleViewError);
}

/** {@link viewsDump} on the event loop (inetViewsAsync). */
export async function viewsDumpAsync(m: ManySockets): Promise<void> {
  using diag = SockDiag.open({ netns: m.ns.spec });
  const got: string[] = [];
  let first: InetSocketView | undefined;
  for await (const v of diag.inetViewsAsync({ ext: [...EXT] })) {
    first ??= v;
    got.push(key(v));
    busy(0.05);
  }
  expect(got.sort()).toEqual(m.expected);
  expect(() => first!.sport).toThrow(StaleViewError);
}

/** A consumer slower than the kernel: the receiver fills every slot, waits for it, and loses nothing. */
export function slowConsumer(m: ManySockets): void {
  using diag = SockDiag.open({ netns: m.ns.spec });
  const got: string[] = [];
  for (const s of diag.inet({ ext: [...EXT] })) {
    got.push(key(s));
    busy(0.05);
  }
  expect(got.sort()).toEqual(m.expected);
}
