/**
 * When to start the reader thread (runtime/reader-thread.ts) for a dump. Its start-up
 * costs 40-50 ms of another CPU, and a dump hands over to it only once it is up: for
 * a dump of 10,000 sockets that made the dump slower (bench: 64 -> 87 ms), for
 * 100,000 faster (248 -> 220 ms). So it is started before a dump of a namespace that
 * holds many sockets, as the kernel counts them in /proc/net/sockstat.
 */
import { readFileSync } from 'node:fs';
import { withNetns, type NetnsSpec } from '../runtime/netns.js';
import { startReaderThread } from '../runtime/reader-thread.js';

/** A namespace with at least this many sockets has its dumps received on the reader thread. */
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

let started = false;

/** Starts the reader thread when the namespace's dumps are likely large enough to gain from it. */
export function startReaderThreadIfLarge(netns?: NetnsSpec): void {
  if (started || (socketsInUse(netns) ?? 0) < LARGE_DUMP_SOCKETS) return;
  started = true;
  startReaderThread();
}
