/**
 * The rest of a dump received by the kernel's own worker threads, through io_uring(7).
 * The kernel produces each next part of a dump inside the recvmsg() that takes the
 * previous one; submitted with IOSQE_ASYNC, those calls run on a kernel worker thread
 * (io-wq) while this thread decodes. That is the overlap the reader thread
 * (reader-thread.ts) gives, without a JavaScript thread to start: a worker is ready
 * 50-90 ms after it is asked for when the process is busy, while a ring takes its
 * first receive at once. A blocking read waits in io_uring_enter(); a read on the event
 * loop waits for the ring's eventfd on libuv's thread pool, which holds a pool thread
 * only while a receive is in flight (each completes at once: see End).
 *
 * - Order: the receives are linked (IOSQE_IO_LINK) in chains of {@link CHAIN}; linked
 *   entries run one after the other, so datagrams fill the slots in order. A chain is
 *   submitted when the one before has completed and its slots are free.
 * - End: every receive is MSG_DONTWAIT. A dump's queue is never empty while it runs
 *   (each receive has the kernel add the next part before it returns), so the first
 *   receive after the reply's last datagram fails with EAGAIN, which ends its chain
 *   (the rest complete with ECANCELED). Any such stop hands what follows back to the
 *   socket's own reads, in order, as the reader thread does.
 * - Nothing stays in flight once {@link RingReceive.finish} returns, so no receive
 *   can take a datagram of the socket's next request.
 *
 * One ring serves the process, one dump at a time. It exists once
 * {@link startRingReceiver} has made it (query/large-dump.ts does, before a large
 * dump) and lives until the process exits. Where io_uring is missing or refused
 * (kernels before 5.4, io_uring_disabled, seccomp filters of containers, 32-bit
 * processes), startRingReceiver says so and dumps use the reader thread; 5.4 and 5.5
 * make a ring but refuse IOSQE_ASYNC entries, which retires the ring at its first
 * receive, and the socket reads that reply itself. A submission the kernel refuses
 * (io_uring_enter failing, or taking only part of a chain) retires the ring the same way.
 */
import { read } from 'node:fs';
import { constants } from 'node:os';
import {
  IORING_OFF_SQES,
  IORING_OFF_SQ_RING,
  IO_URING_CQE_SIZE,
  IO_URING_PARAMS_SIZE,
  IO_URING_SQE_SIZE,
  IO_URING_SQ_ARRAY_ENTRY_SIZE,
  Efd,
  IoUringOp,
  IoUringRegisterOp,
  IoringEnter,
  IoringFeat,
  Iosqe,
  MmapFlags,
  MmapProt,
  decodeIoUringCqe,
  decodeIoUringParams,
  writeIoUringSqe,
} from '../generated/io_uring.js';
import { SOCKADDR_NL_SIZE, decodeSockaddrNl } from '../generated/netlink.js';
import { IOVEC_SIZE, MSGHDR_SIZE, MsgFlags, writeIovec, writeMsghdr } from '../generated/socket.js';
import { DecodeError } from './codec.js';
import { SyscallError } from './errors.js';
import * as libc from './libc.js';
import type { Datagram } from './reader-thread.js';

/** Receive slots: datagrams received and not yet given out, plus the one in hand. */
export const SLOTS = 64;
/** Bytes per slot. A netlink dump datagram is at most 32 KiB (the kernel caps its size). */
const SLOT_BYTES = 64 * 1024;
/** Receives per chain: one chain is in flight at a time. */
const CHAIN = 16;
/** Per slot, after the data: its struct msghdr, struct iovec and struct sockaddr_nl (8-byte aligned). */
const HEADER_BYTES = (MSGHDR_SIZE + IOVEC_SIZE + SOCKADDR_NL_SIZE + 7) & ~7;
const { EAGAIN, ECANCELED, EINVAL, EOPNOTSUPP } = constants.errno;

interface Ring {
  fd: number;
  /** Signalled for every completion posted: what a read on the event loop waits for. */
  eventfd: number;
  /** The submission and completion rings, one mapping (IORING_FEAT_SINGLE_MMAP). */
  rings: DataView;
  sqes: DataView;
  sqHead: number;
  sqTail: number;
  sqMask: number;
  sqArray: number;
  cqHead: number;
  cqTail: number;
  cqMask: number;
  cqes: number;
  /** The slots' data, then their headers. */
  slots: ArrayBuffer;
  headers: DataView;
  /** Address of `slots` in memory, for the kernel. */
  address: bigint;
}

/** undefined: not tried yet; null: io_uring is not available here. */
let ring: Ring | null | undefined;
/** The receive that holds the ring, if any. */
let owner: RingReceive | undefined;
const stats: Omit<RingReceiverStats, 'available'> = { jobs: 0, datagrams: 0 };

/** What the io_uring receiver has done in this process (for benchmarks and tests). */
export interface RingReceiverStats {
  /** Whether the ring exists; undefined when it was never asked for. */
  available: boolean | undefined;
  /** Dumps handed to it. */
  jobs: number;
  /** Datagrams it received. */
  datagrams: number;
  /** Why the ring was retired after the kernel made it, if it was; the socket's own reads then take its place. */
  retired?: string;
}

/** Counts of what the io_uring receiver has done in this process. */
/**
 * Retires the ring when waiting for its receives in flight failed: they may still
 * write into its slots, so it takes no other reply (the one that failed keeps it).
 */
function abandon(e: unknown): void {
  ring = null;
  stats.retired = `waiting for its receives in flight failed: ${e instanceof Error ? e.message : String(e)}`;
}

export function ringReceiverStats(): RingReceiverStats {
  return { available: ring === undefined ? undefined : ring !== null, ...stats };
}

/**
 * Makes the process's ring if it does not exist yet; returns whether there is one.
 * False where io_uring is not available: blocking dumps are then received by the
 * reader thread, when it runs, or by the socket itself.
 */
export function startRingReceiver(): boolean {
  if (ring === undefined) ring = open();
  return ring !== null;
}

function open(): Ring | null {
  // The schema lays struct msghdr and iovec out for 64-bit Linux.
  if (libc.POINTER_BYTES !== 8) return null;
  let fd = -1;
  let eventfd = -1;
  try {
    const raw = new Uint8Array(IO_URING_PARAMS_SIZE);
    fd = libc.ioUringSetup(CHAIN, raw);
    const p = decodeIoUringParams(new DataView(raw.buffer), 0, raw.length);
    // Kernels before 5.4 map the two rings apart; they are not worth a second code path.
    if (!(p.features & IoringFeat['single-mmap'])) throw new Error('no IORING_FEAT_SINGLE_MMAP');
    const ringBytes = Math.max(p.sqOff.array + p.sqEntries * IO_URING_SQ_ARRAY_ENTRY_SIZE, p.cqOff.cqes + p.cqEntries * IO_URING_CQE_SIZE);
    const shared = MmapFlags.shared | MmapFlags.populate;
    const rw = MmapProt.read | MmapProt.write;
    const rings = new DataView(libc.mmap(ringBytes, rw, shared, fd, IORING_OFF_SQ_RING).memory);
    const sqes = new DataView(libc.mmap(p.sqEntries * IO_URING_SQE_SIZE, rw, shared, fd, IORING_OFF_SQES).memory);
    const data = libc.mmap(SLOTS * (SLOT_BYTES + HEADER_BYTES), rw, MmapFlags.private | MmapFlags.anonymous, -1, 0);
    const headers = new DataView(data.memory, SLOTS * SLOT_BYTES);
    eventfd = libc.eventfd(0, Efd.cloexec);
    libc.ioUringRegister(fd, IoUringRegisterOp.eventfd, new Int32Array([eventfd]));
    const r: Ring = {
      fd,
      eventfd,
      rings,
      sqes,
      sqHead: p.sqOff.head,
      sqTail: p.sqOff.tail,
      sqMask: rings.getUint32(p.sqOff.ringMask, true),
      sqArray: p.sqOff.array,
      cqHead: p.cqOff.head,
      cqTail: p.cqOff.tail,
      cqMask: rings.getUint32(p.cqOff.ringMask, true),
      cqes: p.cqOff.cqes,
      slots: data.memory,
      headers,
      address: data.address,
    };
    for (let slot = 0; slot < SLOTS; slot++) writeHeader(r, slot);
    return r;
  } catch {
    if (eventfd >= 0) libc.close(eventfd);
    if (fd >= 0) libc.close(fd);
    return null;
  }
}

/** Where slot `slot`'s struct msghdr is in {@link Ring.headers}; its iovec and sockaddr_nl follow it. */
const headerOffset = (slot: number) => slot * HEADER_BYTES;
/** The address of `offset` in {@link Ring.headers}. */
const headerAddress = (r: Ring, offset: number) => r.address + BigInt(SLOTS * SLOT_BYTES + offset);

/**
 * Writes slot `slot`'s struct msghdr and iovec, once: a receive writes back only the
 * address length, which is the same for every netlink sender, and the message flags,
 * which recvmsg() does not read.
 */
function writeHeader(r: Ring, slot: number): void {
  const h = headerOffset(slot);
  writeIovec({ iovBase: r.address + BigInt(slot * SLOT_BYTES), iovLen: BigInt(SLOT_BYTES) }, r.headers, h + MSGHDR_SIZE);
  const msghdr = { msgName: headerAddress(r, h + MSGHDR_SIZE + IOVEC_SIZE), msgNamelen: SOCKADDR_NL_SIZE, msgIov: headerAddress(r, h + MSGHDR_SIZE) };
  writeMsghdr({ ...msghdr, msgIovlen: 1n, msgControl: 0n, msgControllen: 0n, msgFlags: 0 }, r.headers, h);
}

const WAIT = Symbol('wait');

/** The length of a slot whose receive has not completed. */
const PENDING = -2;
/** The length of a slot that holds nothing to give out. */
const EMPTY = -1;

/**
 * The rest of one reply, received by the ring. Datagrams are given out one at a
 * time, in order; each stays valid until the next call of `next`.
 */
export class RingReceive {
  /** Receives submitted; receive n fills slot n % SLOTS. */
  private submitted = 0;
  /** Receives whose slot was given out or skipped. */
  private taken = 0;
  private inFlight = 0;
  /** No more chains: the reply ended, a receive failed, the caller cancelled, or the receive let go of the ring. */
  private stopped = false;
  private failure: Error | undefined;
  /** Per slot: the length of its datagram, {@link PENDING} or {@link EMPTY}. */
  private readonly lengths = new Int32Array(SLOTS);

  private constructor(
    private readonly r: Ring,
    private readonly fd: number,
  ) {
    this.refill();
  }

  /**
   * Hands the reply being read on descriptor `fd` to the ring, when it exists and is
   * free; otherwise undefined, and the caller reads on. The ring needs not know where
   * the reply ends: after its last datagram a receive finds the queue empty.
   */
  static begin(fd: number): RingReceive | undefined {
    if (!ring || owner) return undefined;
    stats.jobs++;
    return (owner = new RingReceive(ring, fd));
  }

  /**
   * The next datagram, waiting for it; undefined once the ring has left the reply
   * (it ended, or the rest is the caller's to read).
   * @throws SyscallError when a receive failed; DecodeError for a datagram larger than a slot.
   */
  next(): Datagram | undefined {
    for (;;) {
      const d = this.poll();
      if (d !== WAIT) return d;
      this.reap(true);
    }
  }

  /** Like {@link RingReceive.next}, waiting without blocking the event loop. */
  async nextAsync(): Promise<Datagram | undefined> {
    for (;;) {
      const d = this.poll();
      if (d !== WAIT) return d;
      await this.completion();
    }
  }

  /** Submits nothing more; what is in flight still comes out of `next`. */
  cancel(): void {
    this.stopped = true;
  }

  /** Stops (dropping what was received and not taken) and waits until nothing is in flight. */
  finish(): void {
    this.stopped = true;
    try {
      while (this.inFlight > 0) this.reap(true);
    } catch (e) {
      abandon(e);
      throw e;
    }
    this.release();
  }

  /** Like {@link RingReceive.finish}, waiting without blocking the event loop. */
  async finishAsync(): Promise<void> {
    this.stopped = true;
    try {
      while (this.inFlight > 0) await this.completion();
    } catch (e) {
      abandon(e);
      throw e;
    }
    this.release();
  }

  /** The next datagram when one is ready; undefined once the ring has left the reply; else WAIT. */
  private poll(): Datagram | undefined | typeof WAIT {
    this.refill();
    while (this.taken < this.submitted) {
      const slot = this.taken % SLOTS;
      const length = this.lengths[slot]!;
      if (length === PENDING) break;
      this.taken++;
      if (length !== EMPTY) return { view: new DataView(this.r.slots, slot * SLOT_BYTES, length), length };
    }
    if (this.inFlight > 0) return WAIT;
    this.release();
    if (this.failure) throw this.failure;
    return undefined;
  }

  /**
   * Resolves once at least one completion has been recorded: at once when one is
   * posted, else after the ring's eventfd is signalled (read on libuv's thread pool).
   * The eventfd counts completions, so one posted before the read began still wakes it.
   */
  private async completion(): Promise<void> {
    while (this.reap(false) === 0) {
      await new Promise<void>((resolve, reject) => read(this.r.eventfd, new Uint8Array(8), 0, 8, null, (e) => (e ? reject(e) : resolve())));
    }
  }

  private release(): void {
    this.stopped = true;
    if (owner === this) owner = undefined;
  }

  /** Submits the next chain when none is in flight and its slots are free (their datagrams given out and done with). */
  private refill(): void {
    if (this.stopped || this.inFlight > 0 || this.submitted + CHAIN - this.taken > SLOTS) return;
    const r = this.r;
    const head = r.rings.getUint32(r.sqHead, true);
    let tail = r.rings.getUint32(r.sqTail, true);
    for (let i = 0; i < CHAIN; i++) {
      const n = this.submitted + i;
      const slot = n % SLOTS;
      this.lengths[slot] = PENDING;
      const position = tail & r.sqMask;
      writeIoUringSqe(
        {
          opcode: IoUringOp.recvmsg,
          flags: Iosqe.async | (i < CHAIN - 1 ? Iosqe['io-link'] : 0),
          ioprio: 0,
          fd: this.fd,
          off: 0n,
          addr: headerAddress(r, headerOffset(slot)),
          len: 1,
          // MSG_TRUNC: the result is the datagram's real size, so a slot too short shows.
          msgFlags: MsgFlags.dontwait | MsgFlags.trunc,
          userData: BigInt(n),
          bufIndex: 0,
          personality: 0,
          spliceFdIn: 0,
          addr3: 0n,
          pad2: 0n,
        },
        r.sqes,
        position * IO_URING_SQE_SIZE,
      );
      r.rings.setUint32(r.sqArray + position * IO_URING_SQ_ARRAY_ENTRY_SIZE, position, true);
      tail = (tail + 1) >>> 0;
    }
    r.rings.setUint32(r.sqTail, tail, true);
    this.submitted += CHAIN;
    let refused: unknown;
    try {
      libc.ioUringEnter(r.fd, CHAIN, 0, 0);
    } catch (e) {
      refused = e;
    }
    // What the kernel took is in flight; entries it left in the ring would go out with
    // the next submission, out of order, so a ring that refused any is not used again.
    // The dump does not fail for it: once what was taken has completed, in order, the
    // socket reads the rest itself.
    const took = (r.rings.getUint32(r.sqHead, true) - head) >>> 0;
    this.inFlight += took;
    for (let n = this.submitted - CHAIN + took; n < this.submitted; n++) this.lengths[n % SLOTS] = EMPTY;
    if (took < CHAIN) {
      this.stopped = true;
      ring = null;
      stats.retired = refused instanceof SyscallError ? refused.message : `io_uring_enter took ${took} of ${CHAIN} receives`;
    }
  }

  /**
   * Records every completion posted, with `wait` waiting for at least one; returns how
   * many. Completions are read up to the tail seen after the system call, which orders
   * them after the kernel's writes on any CPU.
   */
  private reap(wait: boolean): number {
    const r = this.r;
    libc.ioUringEnter(r.fd, 0, wait ? 1 : 0, IoringEnter.getevents);
    let head = r.rings.getUint32(r.cqHead, true);
    const tail = r.rings.getUint32(r.cqTail, true);
    const count = (tail - head) >>> 0;
    for (; head !== tail; head = (head + 1) >>> 0) {
      const cqe = decodeIoUringCqe(r.rings, r.cqes + (head & r.cqMask) * IO_URING_CQE_SIZE, IO_URING_CQE_SIZE);
      this.inFlight--;
      this.complete(Number(cqe.userData) % SLOTS, cqe.res);
    }
    r.rings.setUint32(r.cqHead, head, true);
    return count;
  }

  private complete(slot: number, res: number): void {
    this.lengths[slot] = EMPTY;
    if (res < 0) {
      this.stopped = true;
      // EAGAIN: the queue was empty (the reply had ended); ECANCELED: an earlier link failed.
      if (res === -EAGAIN || res === -ECANCELED) return;
      // A kernel that refuses the entry itself (5.4 and 5.5 lack IOSQE_ASYNC) received nothing:
      // the ring is retired, and the socket reads the reply on its own.
      if (res === -EINVAL || res === -EOPNOTSUPP) {
        ring = null;
        stats.retired = `a receive submitted with IOSQE_ASYNC failed with ${res === -EINVAL ? 'EINVAL' : 'EOPNOTSUPP'}`;
        return;
      }
      this.failure ??= new SyscallError('recvmsg', -res, 'receiving on an io_uring worker');
      return;
    }
    if (this.failure) return;
    // Datagrams from other processes are dropped, as the socket's own reads drop them,
    // whatever their size: another process must not be able to fail a dump.
    if (decodeSockaddrNl(this.r.headers, headerOffset(slot) + MSGHDR_SIZE + IOVEC_SIZE, SOCKADDR_NL_SIZE).pid !== 0) return;
    // With MSG_TRUNC the result is the datagram's real size.
    if (res > SLOT_BYTES) {
      this.failure = new DecodeError('netlink datagram', 0, `${res} bytes truncated to the ${SLOT_BYTES}-byte io_uring slot`);
      this.stopped = true;
      return;
    }
    this.lengths[slot] = res;
    stats.datagrams++;
  }
}
