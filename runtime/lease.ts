/**
 * How long the bytes under a view stay there. Generated views (`TcpInfoView` and
 * the like) read a receive buffer where the message lies; a dump reuses that buffer
 * for later datagrams. Each view holds the lease of its datagram and checks it on
 * every read, so a view kept past its datagram throws instead of reading another
 * socket's bytes.
 */

/** Whether the bytes a view reads are still the ones it was made for. */
export interface Lease {
  readonly live: boolean;
}

/** The lease of bytes that stay put (a buffer the caller owns): it never ends. */
export const FOREVER: Lease = Object.freeze({ live: true });

/** The lease of one received datagram: live until {@link DatagramLease.end}. */
export class DatagramLease implements Lease {
  live = true;

  /** The datagram's buffer is about to be reused: views of it stop reading. */
  end(): void {
    this.live = false;
  }
}

/** A view was read after the bytes it reads were reused. */
export class StaleViewError extends Error {
  override name = 'StaleViewError';
}

/** Throws the {@link StaleViewError} of a view of `what`. */
export function staleView(what: string): never {
  throw new StaleViewError(`this view of ${what} was read after its dump moved past its datagram; call decode() on it before then to keep it`);
}
