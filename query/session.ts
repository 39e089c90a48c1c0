/**
 * {@link SockDiag}: one NETLINK_SOCK_DIAG socket, and the queries made through it.
 * Open one for many queries (lookups in a loop); the module-level functions in
 * `index.ts` open and close one per call.
 */
import { NetlinkProtocol, NlmGetFlags } from '../generated/netlink.js';
import { SockDiagMsgType } from '../generated/sock_diag.js';
import { NetlinkError } from '../runtime/errors.js';
import type { FilterNode } from './filter/ast.js';
import { planFilter, type FilterPlan } from './filter/compile.js';
import { createMatcher } from './filter/evaluate.js';
import { NetlinkSocket, type NetlinkMessage } from '../runtime/netlink-socket.js';
import type { NetnsSpec } from '../runtime/netns.js';
import { destroyOne, socketId, type DestroyResult } from './destroy.js';
import { decodeInetSocket, families, inetRequest, portsMatch, stateMask } from './inet.js';
import type { InetLookup, InetQuery, InetSocket, QueryOptions, UnixQuery, UnixSocket } from './types.js';
import { decodeUnixSocket, unixRequest } from './unix.js';

const BY_FAMILY = SockDiagMsgType['diag-by-family'];
const DUMP = NlmGetFlags.dump;
/**
 * The value given to a reply's `return()`. Each dump closes its reply when it stops:
 * a no-op after the reply's last message; when the consumer stops early, it makes the
 * netlink socket read and drop the rest of the reply. Without that the kernel's dump
 * stays unfinished and the socket's next dump request fails with EBUSY.
 */
const UNFINISHED: DumpStatus = { interrupted: false };

/** What a finished dump reports besides its sockets. */
export interface DumpStatus {
  /** The kernel flagged the dump as inconsistent (NLM_F_DUMP_INTR): sockets changed while it ran. */
  interrupted: boolean;
  /** Where the filter ran: the part the kernel tested, and what user space tested after it (null: nothing). */
  filter?: { kernel: FilterNode | null; userspace: FilterNode | null };
}

/** A NETLINK_SOCK_DIAG socket. Close it with `close()` or `using`. */
export class SockDiag implements Disposable {
  private constructor(
    private readonly socket: NetlinkSocket,
    private readonly netns?: NetnsSpec,
  ) {}

  /** Opens a sock_diag socket, inside `options.netns` when given. */
  static open(options: QueryOptions & { rcvbuf?: number } = {}): SockDiag {
    return new SockDiag(NetlinkSocket.open(NetlinkProtocol['sock-diag'], { netns: options.netns, rcvbuf: options.rcvbuf }), options.netns);
  }

  /** Status of the last finished dump. */
  status: DumpStatus = { interrupted: false };

  /** Dumps INET sockets (TCP by default, IPv4 and IPv6). The yielded records are fresh objects. */
  *inet(q: InetQuery = {}): Generator<InetSocket, DumpStatus> {
    const states = stateMask(q.states);
    let interrupted = false;
    let filter = this.planFilter(q);
    for (const family of families(q)) {
      if (filter.plan?.empty) break;
      const run = () => {
        const request = inetRequest({ ...q, bytecode: filter.plan?.bytecode ?? q.bytecode }, family, states);
        return this.socket.request(BY_FAMILY, DUMP, request);
      };
      let end: DumpStatus;
      try {
        end = yield* this.dump(run, decodeInetSocket, (s) => portsMatch(q, s) && filter.keep(s), q.retries ?? 0);
      } catch (e) {
        // Mark conditions need CAP_NET_ADMIN: the kernel refuses the program before sending anything.
        if (!(e instanceof NetlinkError && e.code === 'EPERM' && filter.usesMark)) throw e;
        filter = this.planFilter(q, false);
        end = yield* this.dump(run, decodeInetSocket, (s) => portsMatch(q, s) && filter.keep(s), q.retries ?? 0);
      }
      interrupted ||= end.interrupted;
    }
    return (this.status = { interrupted, filter: filter.plan && { kernel: filter.plan.kernel, userspace: filter.plan.userspace } });
  }

  /** Like {@link SockDiag.inet}, without holding the event loop for more than one receive buffer at a time. */
  async *inetAsync(q: InetQuery = {}): AsyncGenerator<InetSocket, DumpStatus> {
    const states = stateMask(q.states);
    let interrupted = false;
    const filter = this.planFilter(q);
    for (const family of families(q)) {
      if (filter.plan?.empty) break;
      const replies = this.socket.requestAsync(BY_FAMILY, DUMP, inetRequest({ ...q, bytecode: filter.plan?.bytecode ?? q.bytecode }, family, states));
      let r = await replies.next();
      for (; !r.done; r = await replies.next()) {
        if (r.value.type !== BY_FAMILY) continue;
        const s = decodeInetSocket(r.value);
        if (portsMatch(q, s) && filter.keep(s)) yield s;
      }
      interrupted ||= r.value.interrupted;
    }
    return (this.status = { interrupted, filter: filter.plan && { kernel: filter.plan.kernel, userspace: filter.plan.userspace } });
  }

  /** Splits `q.filter` between the kernel and user space. */
  private planFilter(q: InetQuery, mark = true): { plan?: FilterPlan; keep: (s: InetSocket) => boolean; usesMark: boolean } {
    if (!q.filter) return { keep: () => true, usesMark: false };
    const plan = planFilter(q.filter, { mark });
    const match = plan.userspace ? createMatcher(plan.userspace) : undefined;
    return { plan, keep: match ?? (() => true), usesMark: plan.needsNetAdmin };
  }

  /** Looks up one INET socket by its 4-tuple; undefined when no such socket exists. */
  inetLookup(q: InetLookup): InetSocket | undefined {
    return this.lookup(() => this.socket.request(BY_FAMILY, 0, inetRequest(q, q.family, stateMask(undefined))), decodeInetSocket);
  }

  /**
   * Destroys every socket the query matches, as `ss -K` does: the dump runs on this
   * socket while the destroy requests go out on a second one. Yields each socket
   * with the outcome. A query without `filter`, `states`, `sport` or `dport`
   * destroys every socket of the protocol: pass `all: true` to mean it.
   * @throws DestroyUnsupportedError without CAP_NET_ADMIN or kernel support.
   */
  *destroy(q: InetQuery & { all?: boolean }): Generator<DestroyResult, DumpStatus> {
    if (!q.all && !q.filter && !q.states && q.sport === undefined && q.dport === undefined) {
      throw new TypeError('destroy() without a filter, states or ports would destroy every socket: pass all: true to mean it');
    }
    using killer = NetlinkSocket.open(NetlinkProtocol['sock-diag'], { netns: this.netns });
    const dump = this.inet(q);
    let r = dump.next();
    for (; !r.done; r = dump.next()) {
      const error = destroyOne(killer, socketId(r.value, q.protocol));
      yield { socket: r.value, error };
    }
    return r.value;
  }

  /** Destroys one socket by its 4-tuple (and cookie); the NetlinkError is ENOENT when there is none. */
  destroyOne(id: InetLookup): NetlinkError | undefined {
    return destroyOne(this.socket, id);
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
    try {
      let r = await replies.next();
      for (; !r.done; r = await replies.next()) {
        if (r.value.type !== BY_FAMILY) continue;
        const s = decodeUnixSocket(r.value);
        if (q.type === undefined || s.type === q.type) yield s;
      }
      return (this.status = { interrupted: r.value.interrupted });
    } finally {
      await replies.return(UNFINISHED);
    }
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
      try {
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
      } finally {
        replies.return(UNFINISHED);
      }
    }
  }

  private lookup<T>(send: () => Generator<NetlinkMessage, DumpStatus>, decode: (m: NetlinkMessage) => T): T | undefined {
    try {
      for (const m of send()) if (m.type === BY_FAMILY) return decode(m);
      return undefined;
    } catch (e) {
      // ENOENT: no socket has that address or inode. ESTALE: one has, but not the cookie
      // asked for (unix_diag; inet_diag answers ENOENT then).
      if (e instanceof NetlinkError && (e.code === 'ENOENT' || e.code === 'ESTALE')) return undefined;
      throw e;
    }
  }
}

