/**
 * The shared memory between a netlink socket's thread and the reader thread
 * (runtime/reader-worker.ts): a control block of 32-bit words, then receive slots
 * that the reader fills with datagrams and the socket's thread decodes in place.
 */

/**
 * How many datagrams the reader may receive ahead of the decoder (4 MiB of slots):
 * enough to keep it receiving while the decoder's code is still cold, when its first
 * hundred datagrams go slowest. 8 slots measured about 4% slower at 100k sockets.
 */
export const SLOTS = 64;
/** Bytes of one slot; a bigger datagram is left for the socket's own thread to read. */
export const SLOT_BYTES = 64 * 1024;

/** Indices of the control words. */
export const Ctl = Object.freeze({
  /** 1 once the reader thread has loaded and waits for jobs. */
  ready: 0,
  /** 1 while a job runs; the reader sets it back to 0 when it leaves the job. */
  job: 1,
  /** The job: descriptor, request sequence number, our port id, and 1 when the request asked for an ACK. */
  fd: 2,
  seq: 3,
  port: 4,
  ack: 5,
  /** Datagrams received by the reader in this job, and released by the decoder. */
  produced: 6,
  consumed: 7,
  /** How the job ended, an {@link Outcome}; and the errno of a failed receive. */
  outcome: 8,
  errno: 9,
  /** Set by the decoder: stop at the next datagram boundary. */
  cancel: 10,
  /** Bumped (and notified) at every change the decoder waits for. */
  event: 11,
  /** Set by the reader just before it sets up koffi (native code that must not be stopped half-way). */
  loading: 12,
  /** Set by the socket's thread when the process exits: a reader that has not begun loading koffi does not begin. */
  exiting: 13,
  /**
   * Set by the reader while it sleeps on full slots: the `consumed` count it waits for
   * ({@link NOT_WAITING} otherwise). The decoder wakes it only on reaching that count.
   */
  wanted: 14,
  /** Counted by the reader: waits for free slots that ran out their time instead of being woken. */
  stalls: 15,
  /** First of the {@link SLOTS} datagram lengths, one per slot. */
  lengths: 16,
} as const);

/** {@link Ctl.wanted} while the reader is not waiting for free slots. */
export const NOT_WAITING = 0x7fffffff;

/**
 * How many slots the reader waits to see free once all are full. Waking it for every
 * slot the decoder frees cost the decoder a futex call per datagram (about 1,500 at
 * 100k sockets with -tin) and the reader a wake-up each.
 */
export const REFILL_SLOTS = SLOTS / 4;

/** How a job ended. */
export const Outcome = Object.freeze({
  running: 0,
  /** The reply's last message was received. */
  ended: 1,
  /** A receive failed: the errno is in {@link Ctl.errno}. */
  failed: 2,
  /** The reader stopped early (cancelled, or a datagram too big for a slot): the socket's thread goes on reading. */
  handedBack: 3,
} as const);

/** Words in the control block. */
export const CONTROL_WORDS = Ctl.lengths + SLOTS;

/** Byte offset of slot `i` in the data buffer. */
export const slotOffset = (i: number): number => (i % SLOTS) * SLOT_BYTES;
