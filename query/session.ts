/**
 * {@link SockDiag}: one NETLINK_SOCK_DIAG socket, and the queries made through it.
 * Open one for many queries (lookups in a loop); the module-level functions in
 * `index.ts` open and close one per call.
 */
import { NetlinkProtocol, NlmGetFlags } from '../generated/netlink.js';
import { SockDiagMsgType } from '../generated/sock_diag.js';
import { NetlinkError } from '../runtime/errors.js';
import { NetlinkSocket, type NetlinkMessage } from '../runtime/netlink-socket.js';
import { decodeInetSocket, families, inetRequest, portsMatch, stateMask } from './inet.js';
import type { InetLookup, InetQuery, InetSocket, QueryOptions, UnixQuery, UnixSocket } from './types.js';
import { decodeUnixSocket, unixRequest } from './unix.js';

const BY_FAMILY = SockDiagMsgType['diag-by-family'];
const DUMP = NlmGetFlags.dump;

/** What a finished dump reports besides its sockets. */
export interface DumpStatus {
  /** The kernel flagged the dump as inconsistent (NLM_F_DUMP_INTR): sockets changed while it ran. */
  interrupted: boolean;
}

/** A NETLINK_SOCK_DIAG socket. Close it with `close()` or `using`. */
export class SockDiag implements Disposable {
  private constructor(private readonly socket: NetlinkSocket) {}

  /** Opens a sock_diag socket, inside `options.netns` when given. */
  static open(options: QueryOptions & { rcvbuf?: number } = {}): SockDiag {
    return new SockDiag(NetlinkSocket.open(NetlinkProtocol['sock-diag'], { netns: options.netns, rcvbuf: options.rcvbuf }));
  }

  /** Status of the last finished dump. */
  status: DumpStatus = { interrupted: false };

  /** Dumps INET sockets (TCP by default, IPv4 and IPv6). The yielded records are fresh objects. */
  *inet(q: InetQuery = {}): Generator<InetSocket, DumpStatus> {
    const states = stateMask(q.states);
    let interrupted = false;
    for (const family of families(q)) {
      const dump = () => this.socket.request(BY_FAMILY, DUMP, inetRequest(q, family, states));
      const end = yield* this.dump(dump, decodeInetSocket, (s) => portsMatch(q, s), q.retries ?? 0);
      interrupted ||= end.interrupted;
    }
    return (this.status = { interrupted });
  }

  /** Like {@link SockDiag.inet}, without holding the event loop for more than one receive buffer at a time. */
  async *inetAsync(q: InetQuery = {}): AsyncGenerator<InetSocket, DumpStatus> {
    const states = stateMask(q.states);
    let interrupted = false;
    for (const family of families(q)) {
      const replies = this.socket.requestAsync(BY_FAMILY, DUMP, inetRequest(q, family, states));
      let r = await replies.next();
      for (; !r.done; r = await replies.next()) {
        if (r.value.type !== BY_FAMILY) continue;
        const s = decodeInetSocket(r.value);
        if (portsMatch(q, s)) yield s;
      }
      interrupted ||= r.value.interrupted;
    }
    return (this.status = { interrupted });
  }

  /** Looks up one INET socket by its 4-tuple; undefined when no such socket exists. */
  inetLookup(q: InetLookup): InetSocket | undefined {
    return this.lookup(() => this.socket.request(BY_FAMILY, 0, inetRequest(q, q.family, stateMask(undefined))), decodeInetSocket);
  }

  /** Dumps UNIX sockets. */
  *unix(q: UnixQuery = {}): Generator<UnixSocket, DumpStatus> {
    const dump = () => this.socket.request(BY_FAMILY, DUMP, unixRequest(q));
    const end = yield* this.dump(dump, decodeUnixSocket, (s) => q.type === undefined || s.type === q.type, q.retries ?? 0);
    return (this.status = end);
  }

  /** Like {@link SockDiag.unix}, without holding the event loop for more than one receive buffer at a time. */
  async *unixAsync(q: UnixQuery = {}): AsyncGenerator<UnixSocket, DumpStatus> {
    const replies = this.socket.requestAsync(BY_FAMILY, DUMP, unixRequest(q));
    let r = await replies.next();
    for (; !r.done; r = await replies.next()) {
      if (r.value.type !== BY_FAMILY) continue;
      const s = decodeUnixSocket(r.value);
      if (q.type === undefined || s.type === q.type) yield s;
    }
    return (this.status = { interrupted: r.value.interrupted });
  }

  /** Looks up one UNIX socket by inode (and cookie); undefined when no such socket exists. */
  unixLookup(inode: number, cookie?: bigint, q: UnixQuery = {}): UnixSocket | undefined {
    return this.lookup(() => this.socket.request(BY_FAMILY, 0, unixRequest(q, inode, cookie)), decodeUnixSocket);
  }

  /** Sends a raw request (any family) and yields its reply messages; for families this API does not cover yet. */
  raw(type: number, flags: number, payload: Uint8Array): Generator<NetlinkMessage, DumpStatus> {
    return this.socket.request(type, flags, payload);
  }

  close(): void {
    this.socket.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Runs a dump and decodes its sockets. When the kernel flags the dump as
   * interrupted and `retries` allows, runs it again and yields only the sockets
   * (by cookie) not yielded before, so no socket appears twice.
   */
  private *dump<T extends { cookie: bigint }>(
    request: () => Generator<NetlinkMessage, DumpStatus>,
    decode: (m: NetlinkMessage) => T,
    keep: (s: T) => boolean,
    retries: number,
  ): Generator<T, DumpStatus> {
    const seen = retries > 0 ? new Set<bigint>() : undefined;
    for (let attempt = 0; ; attempt++) {
      const replies = request();
      let r = replies.next();
      for (; !r.done; r = replies.next()) {
        // Dispatch on the message type before looking at the payload.
        if (r.value.type !== BY_FAMILY) continue;
        const s = decode(r.value);
        if (!keep(s) || seen?.has(s.cookie)) continue;
        seen?.add(s.cookie);
        yield s;
      }
      if (!r.value.interrupted || attempt >= retries) return r.value;
    }
  }

  private lookup<T>(send: () => Generator<NetlinkMessage, DumpStatus>, decode: (m: NetlinkMessage) => T): T | undefined {
    try {
      for (const m of send()) if (m.type === BY_FAMILY) return decode(m);
      return undefined;
    } catch (e) {
      if (e instanceof NetlinkError && e.code === 'ENOENT') return undefined;
      throw e;
    }
  }
}

