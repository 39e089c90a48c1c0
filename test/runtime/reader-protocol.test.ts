/**
 * The reader thread's protocol, without the kernel: a UNIX SOCK_SEQPACKET pair stands
 * in for the netlink socket (it keeps datagram boundaries and has no small queue
 * limit), and the test writes netlink-framed datagrams into it. What the kernel
 * never sends is tried here: more datagrams than slots before the consumer takes
 * any, a datagram bigger than a slot (the thread hands the rest back, leaving it
 * queued), and a job cancelled half-way.
 */
import koffi from 'koffi';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NLMSG_MIN_TYPE, NLMSGHDR_SIZE, NlmFlags, NlmsgType, writeNlmsghdr } from '../../generated/netlink.js';
import { AddressFamily, SOL_SOCKET, SocketOption, SocketType, SocketTypeFlags } from '../../generated/socket.js';
import * as libc from '../../runtime/libc.js';
import { SLOT_BYTES, SLOTS } from '../../runtime/reader-layout.js';
import { readerThreadReady, readerThreadStats, ThreadedReceive } from '../../runtime/reader-thread.js';

const c = koffi.load('libc.so.6');
const socketpair = c.func('int socketpair(int domain, int type, int protocol, _Out_ int *sv)');
const send = c.func('intptr_t send(int fd, const void *buf, size_t len, int flags)');

const SEQ = 77;
const PORT = 4242;
/** A data message type: the first above netlink's control messages. */
const DATA = NLMSG_MIN_TYPE;

let pair: [number, number] | undefined;

function open(): [number, number] {
  const sv = new Int32Array(2);
  const type = SocketType.seqpacket | SocketTypeFlags.nonblock | SocketTypeFlags.cloexec;
  expect(socketpair(AddressFamily.unix, type, 0, sv)).toBe(0);
  // Room for everything a test writes before the reader takes it.
  for (const fd of sv) libc.setsockoptInt(fd, SOL_SOCKET, SocketOption.sndbuf, 4 << 20);
  return (pair = [sv[0]!, sv[1]!]);
}

/** One datagram: a message of `type` and `flags` whose payload is `size` bytes of `fill`. */
function datagram(type: number, flags: number, size: number, fill: number): Uint8Array {
  const bytes = new Uint8Array(NLMSGHDR_SIZE + size).fill(fill, NLMSGHDR_SIZE);
  writeNlmsghdr({ len: bytes.length, type, flags, seq: SEQ, pid: PORT }, new DataView(bytes.buffer), 0);
  return bytes;
}

function write(fd: number, bytes: Uint8Array): void {
  expect(send(fd, bytes, bytes.length, 0)).toBe(bytes.length);
}

/** The fill byte of a received datagram, after checking its framing and length. */
function fillOf(d: { view: DataView; length: number }, size: number): number {
  expect(d.length).toBe(NLMSGHDR_SIZE + size);
  expect(d.view.getUint16(4, true)).toBe(DATA);
  return d.view.getUint8(NLMSGHDR_SIZE);
}

beforeAll(async () => {
  await readerThreadReady();
});

afterEach(() => {
  for (const fd of pair ?? []) libc.close(fd);
  pair = undefined;
});

describe('the reader thread over a socket pair', () => {
  it('gives out more datagrams than it has slots, in order and intact, then ends at NLMSG_DONE', () => {
    const [ours, theirs] = open();
    const count = 3 * SLOTS + 5;
    for (let i = 0; i < count; i++) write(theirs, datagram(DATA, NlmFlags.multi, 100, i % 251));
    write(theirs, datagram(NlmsgType.done, NlmFlags.multi, 4, 0));
    const stalls = readerThreadStats().stalls;
    const r = ThreadedReceive.begin(ours, SEQ, PORT, false);
    expect(r).toBeDefined();
    for (let i = 0; i < count; i++) expect(fillOf(r!.next()!, 100)).toBe(i % 251);
    // The reader waited on full slots several times and was woken each time, not timed out.
    expect(readerThreadStats().stalls).toBe(stalls);
    const done = r!.next()!;
    expect(done.view.getUint16(4, true)).toBe(NlmsgType.done);
    // The thread left the job after the last message; nothing more is read.
    expect(r!.next()).toBeUndefined();
    r!.finish();
  });

  it('hands a datagram bigger than a slot back, still queued, and is free for the next job', () => {
    const [ours, theirs] = open();
    for (let i = 0; i < 3; i++) write(theirs, datagram(DATA, NlmFlags.multi, 64, i + 1));
    write(theirs, datagram(DATA, NlmFlags.multi, SLOT_BYTES + 100, 9));
    const r = ThreadedReceive.begin(ours, SEQ, PORT, false)!;
    expect([1, 2, 3].map(() => fillOf(r.next()!, 64))).toEqual([1, 2, 3]);
    expect(r.next()).toBeUndefined();
    r.finish();
    const big = new Uint8Array(2 * SLOT_BYTES);
    expect(libc.recvfrom(ours, big, big.length, 0, null)).toBe(NLMSGHDR_SIZE + SLOT_BYTES + 100);
    expect(big[NLMSGHDR_SIZE]).toBe(9);
    write(theirs, datagram(NlmsgType.done, NlmFlags.multi, 4, 0));
    const next = ThreadedReceive.begin(ours, SEQ, PORT, false);
    expect(next).toBeDefined();
    expect(next!.next()!.view.getUint16(4, true)).toBe(NlmsgType.done);
    next!.finish();
  });

  it('stops a cancelled job at a datagram boundary: what it received still comes out, the rest stays queued', () => {
    const [ours, theirs] = open();
    const count = 2 * SLOTS;
    for (let i = 0; i < count; i++) write(theirs, datagram(DATA, NlmFlags.multi, 32, i));
    const r = ThreadedReceive.begin(ours, SEQ, PORT, false)!;
    expect(fillOf(r.next()!, 32)).toBe(0);
    r.cancel();
    let taken = 1;
    for (let d = r.next(); d; d = r.next()) expect(fillOf(d, 32)).toBe(taken++);
    r.finish();
    // Every datagram is either given out or still in the socket, in order.
    const rest = new Uint8Array(1024);
    for (let i = taken; i < count; i++) {
      expect(libc.recvfrom(ours, rest, rest.length, 0, null)).toBe(NLMSGHDR_SIZE + 32);
      expect(rest[NLMSGHDR_SIZE]).toBe(i);
    }
    expect(libc.recvfrom(ours, rest, rest.length, 0, null)).toBeUndefined();
  });

  it('ends the job at a malformed header (an nlmsg_len past the datagram) instead of looking for the end beyond it', () => {
    const [ours, theirs] = open();
    const bad = datagram(DATA, NlmFlags.multi, 8, 5);
    new DataView(bad.buffer).setUint32(0, 0xffffffff, true);
    write(theirs, bad);
    write(theirs, datagram(DATA, NlmFlags.multi, 8, 6));
    const r = ThreadedReceive.begin(ours, SEQ, PORT, false)!;
    // The malformed datagram is given out (the caller's framing rejects it), and nothing after it.
    expect(r.next()!.view.getUint32(0, true)).toBe(0xffffffff);
    expect(r.next()).toBeUndefined();
    r.finish();
    const rest = new Uint8Array(64);
    expect(libc.recvfrom(ours, rest, rest.length, 0, null)).toBe(NLMSGHDR_SIZE + 8);
  });

  it('holds one job at a time', () => {
    const [ours, theirs] = open();
    write(theirs, datagram(NlmsgType.done, NlmFlags.multi, 4, 0));
    const first = ThreadedReceive.begin(ours, SEQ, PORT, false)!;
    expect(ThreadedReceive.begin(ours, SEQ, PORT, false)).toBeUndefined();
    first.next();
    first.finish();
    write(theirs, datagram(NlmsgType.done, NlmFlags.multi, 4, 0));
    const second = ThreadedReceive.begin(ours, SEQ, PORT, false);
    expect(second).toBeDefined();
    second!.next();
    second!.finish();
  });
});
