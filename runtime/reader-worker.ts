/**
 * The reader thread (a worker_threads entry point): receives the datagrams of a
 * netlink dump into shared slots while the socket's own thread decodes earlier
 * ones. The kernel produces each next part of a dump inside the recvmsg() call that
 * takes the previous one, so reading here moves that work onto another CPU.
 * It knows netlink framing only (where a reply ends), no sock_diag protocol.
 */
import { workerData } from 'node:worker_threads';
import { NLMSGHDR_SIZE, NLMSG_ALIGNTO, NlmFlags, NlmsgType, SOCKADDR_NL_SIZE, decodeNlmsghdr, decodeSockaddrNl } from '../generated/netlink.js';
import { MsgFlags, PollEvents } from '../generated/socket.js';
import { SyscallError } from './errors.js';
import { Ctl, NOT_WAITING, Outcome, REFILL_SLOTS, SLOT_BYTES, SLOTS, slotOffset } from './reader-layout.js';

/** How long a wait lasts before the reader looks at the cancel flag again, in milliseconds. */
const CHECK_MS = 50;

const ctl = new Int32Array(workerData.control as SharedArrayBuffer);
const data = workerData.data as SharedArrayBuffer;
const bytes = new Uint8Array(data);
const view = new DataView(data);
const sender = new Uint8Array(SOCKADDR_NL_SIZE);
const senderView = new DataView(sender.buffer);

function signal(): void {
  Atomics.add(ctl, Ctl.event, 1);
  Atomics.notify(ctl, Ctl.event);
}

/** True when the datagram in `length` bytes at `offset` holds the last message of the reply. */
function endsReply(offset: number, length: number, seq: number, port: number, ack: boolean): boolean {
  for (let p = 0; length - p >= NLMSGHDR_SIZE; ) {
    const h = decodeNlmsghdr(view, offset + p, NLMSGHDR_SIZE);
    // Malformed (too short, or longer than what is left): the decoder reports it; read no further.
    if (h.len < NLMSGHDR_SIZE || h.len > length - p) return true;
    if (h.seq === seq >>> 0 && h.pid === port >>> 0) {
      if (h.type === NlmsgType.error || h.type === NlmsgType.done) return true;
      if (h.type !== NlmsgType.noop && !(h.flags & NlmFlags.multi) && !ack) return true;
    }
    p += (h.len + NLMSG_ALIGNTO - 1) & ~(NLMSG_ALIGNTO - 1);
  }
  return false;
}

type Libc = typeof import('./libc.js');

/** Receives one job's datagrams until its reply ends; returns how it ended. */
function runJob(libc: Libc): number {
  const fd = ctl[Ctl.fd]!;
  const seq = ctl[Ctl.seq]!;
  const port = ctl[Ctl.port]!;
  const ack = ctl[Ctl.ack] === 1;
  for (let produced = 0; ; ) {
    if (Atomics.load(ctl, Ctl.cancel)) return Outcome.handedBack;
    if (produced - Atomics.load(ctl, Ctl.consumed) >= SLOTS) {
      // Say what to wake us for, then look again: the decoder stores `consumed` before
      // it reads `wanted`, so either it sees our count or we see its store.
      const wanted = produced - SLOTS + REFILL_SLOTS;
      Atomics.store(ctl, Ctl.wanted, wanted);
      const consumed = Atomics.load(ctl, Ctl.consumed);
      if (consumed < wanted && Atomics.wait(ctl, Ctl.consumed, consumed, CHECK_MS) === 'timed-out') Atomics.add(ctl, Ctl.stalls, 1);
      Atomics.store(ctl, Ctl.wanted, NOT_WAITING);
      continue;
    }
    const offset = slotOffset(produced);
    const slot = bytes.subarray(offset, offset + SLOT_BYTES);
    const size = libc.recvfrom(fd, slot, 0, MsgFlags.peek | MsgFlags.trunc, null);
    if (size === undefined) {
      libc.poll(fd, PollEvents.in, CHECK_MS);
      continue;
    }
    if (size > SLOT_BYTES) return Outcome.handedBack;
    const length = libc.recvfrom(fd, slot, SLOT_BYTES, 0, sender);
    if (length === undefined) continue;
    // Datagrams from other processes are dropped, as the socket's own reads drop them.
    if (decodeSockaddrNl(senderView, 0, SOCKADDR_NL_SIZE).pid !== 0) continue;
    ctl[Ctl.lengths + (produced % SLOTS)] = length;
    produced++;
    Atomics.store(ctl, Ctl.produced, produced);
    const ended = endsReply(offset, length, seq, port, ack);
    signal();
    if (ended) return Outcome.ended;
  }
}

// Node stops a worker at process exit wherever it is, and one stopped inside koffi's
// set-up (loading its add-on, binding functions) aborts the process. So libc, which
// loads koffi when it is evaluated, is imported only after saying so, and not at all
// once the process is exiting: either this thread sees `exiting`, or the exiting
// thread sees `loading` and waits until `ready`.
Atomics.store(ctl, Ctl.loading, 1);
if (Atomics.load(ctl, Ctl.exiting) === 0) serve(await import('./libc.js'));

function serve(libc: Libc): never {
  Atomics.store(ctl, Ctl.ready, 1);
  signal();
  for (;;) {
    // Idle until a socket hands over a dump; an idle reader costs no CPU.
    Atomics.wait(ctl, Ctl.job, 0);
    let outcome: number;
    try {
      outcome = runJob(libc);
    } catch (e) {
      ctl[Ctl.errno] = e instanceof SyscallError ? e.errno : 0;
      outcome = Outcome.failed;
    }
    Atomics.store(ctl, Ctl.outcome, outcome);
    Atomics.store(ctl, Ctl.job, 0);
    signal();
  }
}
