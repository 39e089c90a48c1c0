/**
 * When to receive a dump ahead of its decoding: on io_uring's kernel workers
 * (runtime/ring-receive.ts), or on the reader thread (runtime/reader-thread.ts) where
 * io_uring is not available. Either costs more than it gives on small dumps (the
 * thread's start-up takes 40-50 ms of another CPU: a dump of 10,000 sockets went from
 * 64 to 87 ms), so they serve namespaces that hold many sockets, as the kernel counts
 * them in /proc/net/sockstat. Once one is set up, later dumps need not ask.
 */
import { readFileSync } from 'node:fs';
import { withNetns, type NetnsSpec } from '../runtime/netns.js';
import { startReaderThread } from '../runtime/reader-thread.js';
import { startRingReceiver } from '../runtime/ring-receive.js';

/** A namespace with at least this many sockets has its dumps received ahead of their decoding. */
export const LARGE_DUMP_SOCKETS = 50_000;

/**
 * Sockets in use in the namespace (`sockets: used` of /proc/net/sockstat, which the
 * kernel keeps per namespace), or undefined when it cannot be read.
 */
export function socketsInUse(netns?: NetnsSpec): number | undefined {
  try {
    // /proc/thread-self/net is the namespace of the calling thread, which withNetns moves.
    const text = netns ? withNetns(netns, () => readFileSync('/proc/thread-self/net/sockstat', 'latin1')) : readFileSync('/proc/net/sockstat', 'latin1');
    const m = /^sockets: used (\d+)/m.exec(text);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a receiver was set up: a ring or a thread, once made, serves every later dump. */
let prepared = false;

/**
 * Readies the receiver a dump of the namespace will use, when its dumps are likely
 * large enough to gain from one: the io_uring receiver where io_uring works, else the
 * reader thread.
 */
export function prepareLargeDump(netns: NetnsSpec | undefined): void {
  if (!prepared && (socketsInUse(netns) ?? 0) < LARGE_DUMP_SOCKETS) return;
  prepared = true;
  // Both calls are cheap once made; a ring the kernel refused at its first receive is gone, and the thread takes over.
  if (!startRingReceiver()) startReaderThread();
}
