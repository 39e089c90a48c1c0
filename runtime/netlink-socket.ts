/**
 * A netlink socket: sends requests, frames the replies and ends them at NLMSG_DONE,
 * NLMSG_ERROR or the single answer, synchronously or without holding the event loop.
 * Protocol-agnostic: callers give the message types, flags and payloads.
 */
import koffi, { type node } from 'koffi';
import { constants } from 'node:os';
import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  NLMSGERR_SIZE,
  NLMSGHDR_SIZE,
  NLMSG_ALIGNTO,
  NetlinkSockopt,
  NlmAckFlags,
  NlmFlags,
  NlmGetFlags,
  NlmsgType,
  SOCKADDR_NL_SIZE,
  SOL_NETLINK,
  decodeNlmsgerr,
  decodeNlmsgerrAttrs,
  decodeNlmsghdr,
  decodeSockaddrNl,
  encodeSockaddrNl,
  writeNlmsghdr,
  type NlmsgerrAttrs,
} from '../generated/netlink.js';
import { AddressFamily, MsgFlags, PollEvents, SOL_SOCKET, SocketOption, SocketType, SocketTypeFlags } from '../generated/socket.js';
import { DecodeError, LE, needBytes } from './codec.js';
import { NetlinkError, SyscallError } from './errors.js';
import * as libc from './libc.js';
import { ThreadedReceive, type Datagram } from './reader-thread.js';
import { RingReceive } from './ring-receive.js';
import { assertHome, withNetns, type NetnsSpec } from './netns.js';

/**
 * One received netlink message. The payload (after the 16-byte header) is
 * `length` bytes at `offset` in `view`. The view is the socket's receive buffer:
 * it is valid until the iterator that yielded the message is advanced.
 */
export interface NetlinkMessage {
  type: number;
  flags: number;
  seq: number;
  /** Port id in the header: the requester's for replies, 0 for multicast messages. */
  pid: number;
  view: DataView;
  offset: number;
  length: number;
}

/** How a reply ended. */
export interface ReplyEnd {
  /** A message carried NLM_F_DUMP_INTR: the data changed while the kernel dumped it. */
  interrupted: boolean;
}

/** Options of {@link NetlinkSocket.open}. */
export interface OpenOptions {
  /** Create the socket in this network namespace. */
  netns?: NetnsSpec;
  /** Receive buffer size in bytes, see {@link NetlinkSocket.setReceiveBuffer}. */
  rcvbuf?: number;
  /** Multicast groups to join. */
  groups?: readonly number[];
  /**
   * Let the process's io_uring receiver (see startRingReceiver) or its
   * reader thread (see startReaderThread), when one is set up, receive this socket's
   * dumps while this thread decodes (runtime/ring-receive.ts, runtime/reader-thread.ts).
   * Default true; the order and content of what is received do not change.
   */
  readerThread?: boolean;
}

const RECEIVE_BUFFER_BYTES = 32 * 1024;
/** How many failed reads discarding a failed reply's rest tolerates. */
const DISCARD_TRIES = 3;
const C_INT_SIZE = Int32Array.BYTES_PER_ELEMENT;
/** NLMSG_ALIGN: `n` rounded up to the 4-byte boundary netlink messages and struct payloads start on. */
export const nlmsgAlign = (n: number): number => (n + NLMSG_ALIGNTO - 1) & ~(NLMSG_ALIGNTO - 1);
const kernelAddress = () => encodeSockaddrNl({ family: AddressFamily.netlink, pad: 0, pid: 0, groups: 0 });

/**
 * Frames the netlink messages in the first `length` bytes of `view`.
 * @throws DecodeError when a header is cut short, or its nlmsg_len is below the
 *   header size or overruns the datagram.
 */
export function parseMessages(view: DataView, length: number): NetlinkMessage[] {
  const out: NetlinkMessage[] = [];
  for (let offset = 0; offset < length; ) {
    needBytes('struct nlmsghdr', offset, length - offset, NLMSGHDR_SIZE);
    const h = decodeNlmsghdr(view, offset, NLMSGHDR_SIZE);
    if (h.len < NLMSGHDR_SIZE || h.len > length - offset) {
      throw new DecodeError('netlink message', offset, `nlmsg_len ${h.len} with ${length - offset} bytes left in the datagram`);
    }
    out.push({ type: h.type, flags: h.flags, seq: h.seq, pid: h.pid, view, offset: offset + NLMSGHDR_SIZE, length: h.len - NLMSGHDR_SIZE });
    offset += nlmsgAlign(h.len);
  }
  return out;
}

/**
 * The messages of one datagram that belong to `reply`'s data. An error message ends
 * the batch: the data before it is returned with the error, to be thrown after it.
 */
function batchOf(reply: Reply, view: DataView, length: number): { batch: NetlinkMessage[]; error?: unknown } {
  const batch: NetlinkMessage[] = [];
  try {
    for (const m of parseMessages(view, length)) {
      const step = reply.step(m);
      if (step === 'data' || step === 'last') batch.push(m);
      if (reply.ended) break;
    }
  } catch (error) {
    return { batch, error };
  }
  return { batch };
}

/** Decodes the extended-ack attributes at `at` in the payload of `m`, when the flags say they are there. */
function extack(m: NetlinkMessage, at: number): NlmsgerrAttrs {
  if (!(m.flags & NlmAckFlags['ack-tlvs']) || at > m.length) return {};
  return decodeNlmsgerrAttrs(m.view, m.offset + at, m.length - at);
}

function netlinkError(errno: number, attrs: NlmsgerrAttrs, request: string | undefined): NetlinkError {
  return new NetlinkError(errno, { extack: attrs.msg, extackOffset: attrs.offs, request });
}

/** What a message means for the reply being received. */
type Step = 'skip' | 'data' | 'last' | 'end';

/** The state of the reply to one request. Exported for tests; not part of the public API. @internal */
export class Reply {
  interrupted = false;
  /** The reply has ended (or failed); nothing more of it will arrive. */
  ended = false;

  constructor(
    readonly seq: number,
    private readonly portId: number,
    /** The request's flags, when this socket sent it. */
    private readonly requestFlags: number | undefined,
    private readonly request: string | undefined,
  ) {}

  /** The request was a dump (NLM_F_DUMP): a multipart reply of any length. */
  get dump(): boolean {
    return this.requestFlags !== undefined && (this.requestFlags & NlmGetFlags.dump) === NlmGetFlags.dump;
  }

  /** The request asked for an ACK. */
  get ack(): boolean {
    return this.requestFlags !== undefined && (this.requestFlags & NlmFlags.ack) !== 0;
  }

  /** Classifies `m`: a message of another request or a NOOP is skipped; errors throw NetlinkError. */
  step(m: NetlinkMessage): Step {
    if (m.seq !== this.seq || m.pid !== this.portId) return 'skip';
    if (m.flags & NlmFlags['dump-intr']) this.interrupted = true;
    if (m.type === NlmsgType.noop) return 'skip';
    const step = m.type === NlmsgType.error ? this.error(m) : m.type === NlmsgType.done ? this.done(m) : this.data(m);
    this.ended = step !== 'data';
    return step;
  }

  private data(m: NetlinkMessage): Step {
    // A reply without NLM_F_MULTI is a single message, unless an ACK was asked for.
    return m.flags & NlmFlags.multi || this.ack ? 'data' : 'last';
  }

  private error(m: NetlinkMessage): Step {
    const err = decodeNlmsgerr(m.view, m.offset, Math.min(m.length, NLMSGERR_SIZE));
    if (err.error === 0) return 'end';
    this.ended = true;
    // The failed request is echoed after struct nlmsgerr unless capped to its header.
    // Clamped to the payload: a bigger echoed nlmsg_len would overflow nlmsgAlign()'s 32-bit arithmetic.
    const echoed = m.flags & NlmAckFlags.capped ? 0 : Math.min(Math.max(err.msg.len - NLMSGHDR_SIZE, 0), m.length);
    throw netlinkError(-err.error, extack(m, nlmsgAlign(NLMSGERR_SIZE + echoed)), this.request);
  }

  private done(m: NetlinkMessage): Step {
    needBytes('NLMSG_DONE payload', m.offset, m.length, C_INT_SIZE);
    const error = m.view.getInt32(m.offset, LE);
    if (error < 0) {
      this.ended = true;
      throw netlinkError(-error, extack(m, C_INT_SIZE), this.request);
    }
    return 'end';
  }
}

/**
 * A netlink socket (AF_NETLINK, SOCK_RAW) talking to the kernel. One reader at a
 * time: a reply read by one iterator is not seen by another. Close it with
 * `close()` or `using`.
 */
export class NetlinkSocket implements Disposable {
  #closed = false;
  private lastSeq = 0;
  /** Flags of sent requests whose replies have not been received, by sequence number. */
  private readonly pending = new Map<number, { type: number; flags: number }>();
  private buffer = new Uint8Array(RECEIVE_BUFFER_BYTES);
  private view = new DataView(this.buffer.buffer);
  private readonly sender = new Uint8Array(SOCKADDR_NL_SIZE);
  private poller: node.PollHandle | undefined;
  private wake: (() => void) | undefined;
  /** The receive of the reply being read by the io_uring receiver or the reader thread, while one has it. */
  private threaded: RingReceive | ThreadedReceive | undefined;
  /** A reply is being received, from the first step of its iterator to its end: see {@link NetlinkSocket.send}. */
  private receiving = false;
  /** Why the socket takes no more requests, once receives it could not stop may still take its datagrams. */
  private lost?: string;

  private constructor(
    /** The file descriptor (non-blocking, close-on-exec). */
    readonly fd: number,
    /** The port id the socket is bound to (nl_pid of its address). */
    readonly portId: number,
    private readonly useReaderThread: boolean,
  ) {}

  /**
   * Opens a netlink socket of `protocol` (a NetlinkProtocol value), asks for
   * extended acknowledgements where the kernel has them, and binds it.
   * @throws SyscallError when a step fails; the descriptor is closed then.
   */
  static open(protocol: number, options: OpenOptions = {}): NetlinkSocket {
    const type = SocketType.raw | SocketTypeFlags.cloexec | SocketTypeFlags.nonblock;
    const create = () => libc.socket(AddressFamily.netlink, type, protocol);
    // A thread stranded in another namespace would open its socket there.
    assertHome();
    const fd = options.netns ? withNetns(options.netns, create) : create();
    try {
      try {
        libc.setsockoptInt(fd, SOL_NETLINK, NetlinkSockopt['ext-ack'], 1);
      } catch (e) {
        // Kernels before 4.12 do not know the option.
        if (!(e instanceof SyscallError && e.code === 'ENOPROTOOPT')) throw e;
      }
      if (options.rcvbuf !== undefined) setReceiveBuffer(fd, options.rcvbuf);
      libc.bind(fd, kernelAddress());
      const address = new Uint8Array(SOCKADDR_NL_SIZE);
      libc.getsockname(fd, address);
      for (const group of options.groups ?? []) {
        libc.setsockoptInt(fd, SOL_NETLINK, NetlinkSockopt['add-membership'], group, `joining netlink multicast group ${group}`);
      }
      return new NetlinkSocket(fd, decodeSockaddrNl(new DataView(address.buffer), 0, SOCKADDR_NL_SIZE).pid, options.readerThread ?? true);
    } catch (e) {
      libc.close(fd);
      throw e;
    }
  }

  /** True once {@link NetlinkSocket.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends a request to the kernel: a netlink header (`flags` | NLM_F_REQUEST, the
   * next sequence number, port id 0) followed by `payload`.
   * @returns the sequence number, to give to {@link NetlinkSocket.receive}.
   * @throws Error while the reply to another request is being received: its reads would
   *   take this one's messages (and the other way round), and the kernel runs one dump
   *   per socket at a time.
   */
  send(type: number, flags: number, payload: Uint8Array): number {
    this.checkOpen('sendto');
    if (this.lost) throw new Error(`this netlink socket takes no more requests: ${this.lost}; open another one`);
    if (this.receiving) {
      throw new Error('this netlink socket is receiving the reply to another request; one request at a time: finish or stop that iteration first, or use another socket');
    }
    const seq = (this.lastSeq = ((this.lastSeq + 1) >>> 0) || 1);
    const message = new Uint8Array(NLMSGHDR_SIZE + payload.length);
    const header = { len: message.length, type, flags: flags | NlmFlags.request, seq, pid: 0 };
    writeNlmsghdr(header, new DataView(message.buffer), 0);
    message.set(payload, NLMSGHDR_SIZE);
    libc.sendto(this.fd, message, 0, kernelAddress());
    this.pending.set(seq, header);
    return seq;
  }

  /**
   * Receives the reply to request `seq`, blocking: yields its data messages until
   * NLMSG_DONE ends a multipart reply, or after the single message of a reply
   * without NLM_F_MULTI, or at the ACK when the request asked for one. Messages of
   * other requests are skipped. Stopping early reads and drops the rest of the
   * reply, so that the socket can take the next request; so does a receive that
   * fails in the middle of a reply, after which the error is thrown. A message's view is
   * valid until the iterator is advanced. Waits forever for a reply that never comes.
   * @throws NetlinkError when the kernel answers with an error code.
   * @throws SyscallError when receiving fails, e.g. `ENOBUFS` after the receive queue overflowed.
   * @throws DecodeError on malformed framing.
   */
  receive(seq: number): Generator<NetlinkMessage, ReplyEnd> {
    return this.receiveReply(this.reply(seq));
  }

  /**
   * Like {@link NetlinkSocket.receive}, without blocking the event loop: waits for
   * data on the event loop, and lets it turn between two receive buffers.
   * @throws SyscallError `EBADF` when the socket is closed while waiting.
   */
  receiveAsync(seq: number): AsyncGenerator<NetlinkMessage, ReplyEnd> {
    return this.receiveReplyAsync(this.reply(seq));
  }

  /**
   * Like {@link NetlinkSocket.receive}, one receive buffer at a time: yields the data
   * messages of each datagram together (the fast path for dumps).
   */
  receiveBatches(seq: number): Generator<NetlinkMessage[], ReplyEnd> {
    return this.batches(this.reply(seq));
  }

  /** Like {@link NetlinkSocket.receiveBatches}, waiting on the event loop. */
  receiveBatchesAsync(seq: number): AsyncGenerator<NetlinkMessage[], ReplyEnd> {
    return this.batchesAsync(this.reply(seq));
  }

  private *batches(reply: Reply): Generator<NetlinkMessage[], ReplyEnd> {
    let yielding = false;
    this.receiving = true;
    try {
      for (;;) {
        const { view, length } = this.nextDatagram(reply);
        const { batch, error } = batchOf(reply, view, length);
        if (batch.length > 0) {
          yielding = true;
          yield batch;
          yielding = false;
        }
        if (error !== undefined) throw error;
        if (reply.ended) return { interrupted: reply.interrupted };
      }
    } finally {
      try {
        if (!reply.ended && !this.#closed) {
          // Stopped early: read the rest, so that the kernel ends the dump.
          if (yielding) {
            this.threaded?.cancel();
            this.drain(reply);
          } else this.discardFailedReply();
        }
        this.finishThreaded();
      } finally {
        this.receiving = false;
      }
    }
  }

  private async *batchesAsync(reply: Reply): AsyncGenerator<NetlinkMessage[], ReplyEnd> {
    let yielding = false;
    this.receiving = true;
    try {
      for (let first = true; ; first = false) {
        // Let timers and I/O run between two receive buffers.
        if (!first) await nextTurn();
        const datagram = await this.nextDatagramAsync(reply);
        if (datagram === undefined) throw new SyscallError('recvfrom', constants.errno.EBADF, 'the netlink socket was closed while waiting for a reply');
        const { batch, error } = batchOf(reply, datagram.view, datagram.length);
        if (batch.length > 0) {
          yielding = true;
          yield batch;
          yielding = false;
        }
        if (error !== undefined) throw error;
        if (reply.ended) return { interrupted: reply.interrupted };
      }
    } finally {
      try {
        if (!reply.ended && !this.#closed) {
          if (yielding) {
            this.threaded?.cancel();
            await this.drainAsync(reply);
          } else await this.discardFailedReplyAsync();
        }
        await this.finishThreadedAsync();
      } finally {
        this.receiving = false;
      }
    }
  }

  /**
   * The next datagram of `reply`: from the io_uring receiver or the reader thread while
   * one has the reply, else read here. A dump is handed over at a datagram boundary,
   * to the ring when it is set up and free, else to the thread once it is running,
   * ready and free.
   */
  private nextDatagram(reply: Reply): Datagram {
    const threaded = this.threaded ?? this.handOver(reply);
    if (threaded) {
      const datagram = threaded.next();
      if (datagram) return datagram;
      this.threaded = undefined;
    }
    // Read first: a bigger datagram replaces the buffer, and with it the view.
    const length = this.readBlocking();
    return { view: this.view, length };
  }

  /** Like {@link NetlinkSocket.nextDatagram}, waiting on the event loop; undefined when the socket is closed while waiting. */
  private async nextDatagramAsync(reply: Reply): Promise<Datagram | undefined> {
    const threaded = this.threaded ?? this.handOver(reply);
    if (threaded) {
      const datagram = await threaded.nextAsync();
      if (datagram) return datagram;
      this.threaded = undefined;
    }
    const length = await this.readAsync();
    return length === undefined ? undefined : { view: this.view, length };
  }

  /** Hands a dump's remaining datagrams to the io_uring receiver, else to the reader thread; undefined when neither takes it. */
  private handOver(reply: Reply): RingReceive | ThreadedReceive | undefined {
    if (!this.useReaderThread || !reply.dump || reply.ended) return undefined;
    return (this.threaded = RingReceive.begin(this.fd) ?? ThreadedReceive.begin(this.fd, reply.seq, this.portId, reply.ack));
  }

  private *receiveReply(reply: Reply): Generator<NetlinkMessage, ReplyEnd> {
    const batches = this.batches(reply);
    try {
      let r = batches.next();
      for (; !r.done; r = batches.next()) yield* r.value;
      return r.value;
    } finally {
      batches.return({ interrupted: reply.interrupted });
    }
  }

  private async *receiveReplyAsync(reply: Reply): AsyncGenerator<NetlinkMessage, ReplyEnd> {
    const batches = this.batchesAsync(reply);
    try {
      let r = await batches.next();
      for (; !r.done; r = await batches.next()) yield* r.value;
      return r.value;
    } finally {
      await batches.return({ interrupted: reply.interrupted });
    }
  }

  /**
   * Sends a request and receives its reply: {@link NetlinkSocket.send} then
   * {@link NetlinkSocket.receive}. The request is sent when iteration starts.
   */
  *request(type: number, flags: number, payload: Uint8Array): Generator<NetlinkMessage, ReplyEnd> {
    return yield* this.receive(this.send(type, flags, payload));
  }

  /** Sends a request and receives its reply one receive buffer at a time: {@link NetlinkSocket.receiveBatches}. */
  *requestBatches(type: number, flags: number, payload: Uint8Array): Generator<NetlinkMessage[], ReplyEnd> {
    return yield* this.receiveBatches(this.send(type, flags, payload));
  }

  /** Like {@link NetlinkSocket.requestBatches}, waiting on the event loop. */
  async *requestBatchesAsync(type: number, flags: number, payload: Uint8Array): AsyncGenerator<NetlinkMessage[], ReplyEnd> {
    return yield* this.receiveBatchesAsync(this.send(type, flags, payload));
  }

  /** Like {@link NetlinkSocket.request}, receiving with {@link NetlinkSocket.receiveAsync}. */
  async *requestAsync(type: number, flags: number, payload: Uint8Array): AsyncGenerator<NetlinkMessage, ReplyEnd> {
    return yield* this.receiveAsync(this.send(type, flags, payload));
  }

  /**
   * Yields every message the kernel sends to this socket (multicast notifications
   * of the joined groups included), without filtering, until the socket is closed;
   * closing it while waiting ends the iteration.
   * @throws SyscallError `ENOBUFS` when notifications were lost because the receive queue overflowed.
   */
  async *messages(): AsyncGenerator<NetlinkMessage, void> {
    for (;;) {
      const length = await this.readAsync();
      if (length === undefined) return;
      for (const m of parseMessages(this.view, length)) {
        if (this.#closed) return;
        yield m;
      }
      await nextTurn();
    }
  }

  /**
   * Sets the receive buffer (SO_RCVBUF; the kernel doubles the value). Tries
   * SO_RCVBUFFORCE first, which may exceed net.core.rmem_max but needs CAP_NET_ADMIN.
   */
  setReceiveBuffer(bytes: number): void {
    this.checkOpen('setsockopt');
    setReceiveBuffer(this.fd, bytes);
  }

  /** The receive buffer size the kernel uses (SO_RCVBUF), in bytes. */
  getReceiveBuffer(): number {
    this.checkOpen('getsockopt');
    return libc.getsockoptInt(this.fd, SOL_SOCKET, SocketOption.rcvbuf);
  }

  /** Closes the socket; ends a pending {@link NetlinkSocket.messages} wait. Calling it again does nothing. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.pending.clear();
    // The ring or the reader thread lets go of the descriptor before it is closed.
    try {
      this.threaded?.finish();
    } catch {
      // Closed all the same: receives the ring could not stop hold the socket's file themselves.
    }
    this.threaded = undefined;
    // Stop polling before the descriptor is closed (and its number reused).
    this.poller?.close();
    this.poller = undefined;
    libc.close(this.fd);
    this.wake?.();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** Throws EBADF, as `syscall` would on a closed descriptor, once the socket is closed. */
  private checkOpen(syscall: string): void {
    if (this.#closed) throw new SyscallError(syscall, constants.errno.EBADF, 'the netlink socket is closed');
  }

  private reply(seq: number): Reply {
    const request = this.pending.get(seq);
    this.pending.delete(seq);
    const description = request && `type ${request.type}, flags 0x${request.flags.toString(16)}, seq ${seq}`;
    return new Reply(seq, this.portId, request?.flags, description);
  }

  /**
   * Reads the next datagram from the kernel into the receive buffer, growing the
   * buffer first when the datagram is bigger; returns its length, or undefined
   * when none is queued. Datagrams from other processes are dropped.
   */
  private tryRead(): number | undefined {
    this.checkOpen('recvfrom');
    for (;;) {
      const size = libc.recvfrom(this.fd, this.buffer, 0, MsgFlags.peek | MsgFlags.trunc, null);
      if (size === undefined) return undefined;
      if (size > this.buffer.length) {
        this.buffer = new Uint8Array(Math.max(size, 2 * this.buffer.length));
        this.view = new DataView(this.buffer.buffer);
      }
      const length = libc.recvfrom(this.fd, this.buffer, this.buffer.length, MsgFlags.trunc, this.sender);
      if (length === undefined) return undefined;
      if (length > this.buffer.length) {
        throw new DecodeError('netlink datagram', 0, `${length} bytes truncated to the ${this.buffer.length}-byte receive buffer`);
      }
      if (decodeSockaddrNl(new DataView(this.sender.buffer), 0, SOCKADDR_NL_SIZE).pid === 0) return length;
    }
  }

  private readBlocking(): number {
    for (;;) {
      const length = this.tryRead();
      if (length !== undefined) return length;
      libc.poll(this.fd, PollEvents.in, -1);
    }
  }

  /** Reads the next datagram, waiting on the event loop; undefined when the socket is closed while waiting. */
  private async readAsync(): Promise<number | undefined> {
    for (;;) {
      if (this.#closed) return undefined;
      const length = this.tryRead();
      if (length !== undefined) return length;
      await this.readable();
    }
  }

  /** Resolves when the descriptor is readable or the socket is closed. */
  private readable(): Promise<void> {
    if (this.wake) throw new Error('another receive is already waiting on this netlink socket');
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = undefined;
        this.poller?.stop();
        resolve();
      };
      if (this.poller) this.poller.start({ readable: true }, this.wake);
      else this.poller = koffi.node.poll(this.fd, { readable: true }, this.wake);
    });
  }

  /**
   * After a receive failed in the middle of a reply: lets the ring or the reader thread
   * go, then reads and drops what is queued ({@link NetlinkSocket.discardQueued}).
   * Errors on the way are dropped; the caller sees the one that stopped the reply.
   */
  private discardFailedReply(): void {
    try {
      this.finishThreaded();
    } catch {
      // Dropped, as below.
    }
    this.discardQueued();
  }

  /** Lets the ring or the reader thread go, when one has the reply; the socket is lost if that fails (see lose). */
  private finishThreaded(): void {
    try {
      this.threaded?.finish();
    } catch (e) {
      this.lose(e);
      throw e;
    } finally {
      this.threaded = undefined;
    }
  }

  /** {@link NetlinkSocket.finishThreaded} on the event loop. */
  private async finishThreadedAsync(): Promise<void> {
    try {
      await this.threaded?.finishAsync();
    } catch (e) {
      this.lose(e);
      throw e;
    } finally {
      this.threaded = undefined;
    }
  }

  /**
   * The ring's receives in flight could not be waited for (RingReceive.finish failed):
   * they may still take this socket's datagrams, those of a next reply too, which would
   * then lose messages or wait for ever for its end. So the socket takes no more requests.
   */
  private lose(e: unknown): void {
    this.lost = `receives on it could not be stopped after a failed receive (${e instanceof Error ? e.message : String(e)})`;
  }

  /** Like {@link NetlinkSocket.discardFailedReply}, waiting on the event loop for the ring or the thread. */
  private async discardFailedReplyAsync(): Promise<void> {
    try {
      await this.finishThreadedAsync();
    } catch {
      // Dropped, as below.
    }
    this.discardQueued();
  }

  /**
   * Reads and drops every datagram queued, without waiting. While a dump runs its
   * queue is never empty (each read has the kernel add the next part), so this reads
   * a dump to its end, and the socket can take the next request: the kernel refuses a
   * new dump (EBUSY) while one runs. A read that fails is tried again, a few times
   * in all (ENOBUFS is reported once; ENOMEM may pass); then what stays queued stays,
   * and a next dump's EBUSY says so.
   */
  private discardQueued(): void {
    for (let failures = 0; failures < DISCARD_TRIES; ) {
      try {
        if (this.tryRead() === undefined) return;
      } catch {
        failures++;
      }
    }
  }

  /**
   * Reads and drops the rest of `reply`, which the caller stopped reading. Its kernel
   * error, or a receive that fails on the way (after which the rest is discarded, see
   * {@link NetlinkSocket.discardFailedReply}), belongs to the abandoned part and is dropped.
   */
  private drain(reply: Reply): void {
    try {
      for (const _ of this.receiveReply(reply));
    } catch (e) {
      if (!abandoned(e)) throw e;
    }
  }

  private async drainAsync(reply: Reply): Promise<void> {
    try {
      for await (const _ of this.receiveReplyAsync(reply));
    } catch (e) {
      if (!abandoned(e)) throw e;
    }
  }
}

/** Whether `e` is what receiving a reply can throw (not a programming error): what a drain drops. */
const abandoned = (e: unknown) => e instanceof NetlinkError || e instanceof SyscallError || e instanceof DecodeError;

/** Sets SO_RCVBUF of `fd`, with SO_RCVBUFFORCE when the process may. */
function setReceiveBuffer(fd: number, bytes: number): void {
  try {
    libc.setsockoptInt(fd, SOL_SOCKET, SocketOption.rcvbufforce, bytes, `setting the receive buffer to ${bytes} bytes`);
  } catch (e) {
    if (!(e instanceof SyscallError && e.code === 'EPERM')) throw e;
    libc.setsockoptInt(fd, SOL_SOCKET, SocketOption.rcvbuf, bytes, `setting the receive buffer to ${bytes} bytes`);
  }
}
