/**
 * {@link SockDiag}: one NETLINK_SOCK_DIAG socket, and the queries made through it.
 * Open one for many queries (lookups in a loop); the module-level functions in
 * `index.ts` open and close one per call.
 */
import { NetlinkProtocol, NlmGetFlags } from '../generated/netlink.js';
import { SockDiagMsgType } from '../generated/sock_diag.js';
import { IpProtocol } from '../generated/socket.js';
import { NetlinkError } from '../runtime/errors.js';
import { interfaceIndex } from '../runtime/interfaces.js';
import { NetlinkSocket, type NetlinkMessage, type OpenOptions, type ReplyEnd } from '../runtime/netlink-socket.js';
import { checkDumpOptions, checkFamily, checkOpenOptions, checkInetLookup, checkInetQuery, checkUnixLookup, checkUnixQuery } from './check.js';
import { prepareLargeDump } from './large-dump.js';
import type { NetnsSpec } from '../runtime/netns.js';
import { destroyOne, socketId, type DestroyResult } from './destroy.js';
import { FAMILIES, type FamilyName, type FamilySockets } from './families.js';
import type { FilterNode } from './filter/ast.js';
import { planFilter, type FilterPlan } from './filter/compile.js';
import { createMatcher, type FilterSocket } from './filter/evaluate.js';
import { decodeInetSocket, inetRequest, inetRequests, lookupId, portsMatch, stateMask } from './inet.js';
import { InetSocketView } from './inet-view.js';
import { DatagramLease, type Lease } from '../runtime/lease.js';
import type { DumpOptions, InetLookup, InetQuery, InetSocket, QueryOptions, UnixQuery, UnixSocket } from './types.js';
import { decodeUnixSocket, unixRequest } from './unix.js';
import { UnixSocketView } from './unix-view.js';

const BY_FAMILY = SockDiagMsgType['diag-by-family'];
const DUMP = NlmGetFlags.dump;
/**
 * The value given to a reply's `return()`. Each dump closes its reply when it stops:
 * a no-op after the reply's last message; when the consumer stops early, it makes the
 * netlink socket read and drop the rest of the reply. Without that the kernel's dump
 * stays unfinished and the socket's next dump request fails with EBUSY.
 */
const UNFINISHED: ReplyEnd = { interrupted: false };

/** What a finished dump reports besides its sockets. */
export interface DumpStatus {
  /** The kernel flagged the dump as inconsistent (NLM_F_DUMP_INTR): sockets changed while it ran. */
  interrupted: boolean;
  /** Where the filter ran: the part the kernel tested, and what user space tested after it (null: nothing). */
  filter?: { kernel: FilterNode | null; userspace: FilterNode | null };
}

/** The kernel has no sock_diag module for what was asked (it answered ENOENT to a dump). */
export class NoDiagSupportError extends Error {
  override name = 'NoDiagSupportError';
  constructor(
    /** What was asked for, such as `RAW` or `PACKET`. */
    readonly what: string,
    override readonly cause: NetlinkError,
  ) {
    super(`this kernel has no sock_diag support for ${what} sockets (no ${what.toLowerCase()}_diag module loaded or built)`);
  }
}

/** One dump to run: its request, how to read its replies, and which sockets to keep. */
interface DumpSpec<T> {
  what: string;
  /** The request's nlmsg_type; the replies carry the same type. */
  type: number;
  request: Uint8Array;
  /** Makes the record of a message; `lease` ends when the dump moves past the message's datagram. */
  decode: (m: NetlinkMessage, lease: Lease) => T;
  keep?: (s: T) => boolean;
  retries?: number;
}

/** A query's filter: where it runs, and the user-space test of what the kernel returns. */
interface InetFilter {
  plan?: FilterPlan;
  keep: (s: FilterSocket) => boolean;
}

/** The status of a finished INET dump. */
function inetStatus(interrupted: boolean, plan: FilterPlan | undefined): DumpStatus {
  return { interrupted, filter: plan && { kernel: plan.kernel, userspace: plan.userspace } };
}

/** A socket record with the kernel's unique id, to drop repeats of retried dumps. */
type Cookied = { cookie?: bigint };

/** What an INET dump yields for a message: a decoded socket, or a view. */
type InetRecord = FilterSocket & { cookie: bigint };
type MakeInet<T> = (m: NetlinkMessage, protocol: number, lease: Lease) => T;
const decodeInet: MakeInet<InetSocket> = (m, protocol) => decodeInetSocket(m, protocol);
const viewInet: MakeInet<InetSocketView> = (m, protocol, lease) => new InetSocketView(m, protocol, lease);
const viewUnix = (m: NetlinkMessage, lease: Lease) => new UnixSocketView(m, lease);

/** A NETLINK_SOCK_DIAG socket. Close it with `close()` or `using`. */
export class SockDiag implements Disposable {
  private constructor(
    private readonly socket: NetlinkSocket,
    private readonly netns: NetnsSpec | undefined,
    private readonly readerThread: boolean,
  ) {}

  /**
   * Opens a sock_diag socket, inside `options.netns` when given. `rcvbuf` and
   * `readerThread` are passed to {@link NetlinkSocket.open}; with `readerThread`
   * (the default), a dump of a namespace holding 50,000 sockets or more sets up the
   * io_uring receiver, or where io_uring is not available the reader thread, first
   * (query/large-dump.ts).
   */
  static open(options: QueryOptions & Pick<OpenOptions, 'rcvbuf' | 'readerThread'> = {}): SockDiag {
    checkOpenOptions(options);
    const { netns, rcvbuf, readerThread = true } = options;
    return new SockDiag(NetlinkSocket.open(NetlinkProtocol['sock-diag'], { netns, rcvbuf, readerThread }), netns, readerThread);
  }

  /** Status of the last finished dump. */
  status: DumpStatus = { interrupted: false };

  /** Dumps INET sockets (TCP by default, IPv4 and IPv6). The yielded records are fresh objects. */
  inet(q: InetQuery = {}): Generator<InetSocket, DumpStatus> {
    return this.inetDump(q, decodeInet);
  }

  /** Like {@link SockDiag.inet}, without holding the event loop for more than one receive buffer at a time. */
  inetAsync(q: InetQuery = {}): AsyncGenerator<InetSocket, DumpStatus> {
    return this.inetDumpAsync(q, decodeInet);
  }

  /**
   * Like {@link SockDiag.inet}, but yields views that read each field from the receive
   * buffer when it is read, instead of decoded records: faster for callers that read a
   * few fields of each socket. Read a view inside the loop; see {@link InetSocketView}.
   */
  inetViews(q: InetQuery = {}): Generator<InetSocketView, DumpStatus> {
    return this.inetDump(q, viewInet);
  }

  /** {@link SockDiag.inetViews} on the event loop, as {@link SockDiag.inetAsync}. */
  inetViewsAsync(q: InetQuery = {}): AsyncGenerator<InetSocketView, DumpStatus> {
    return this.inetDumpAsync(q, viewInet);
  }

  private *inetDump<T extends InetRecord>(q: InetQuery, make: MakeInet<T>): Generator<T, DumpStatus> {
    checkInetQuery(q);
    let filter = this.planFilter(q, true);
    let specs = this.inetSpecs(q, filter, make);
    let interrupted = false;
    for (let i = 0; !filter.plan?.empty && i < specs.length; i++) {
      let end: ReplyEnd;
      try {
        end = yield* this.run(specs[i]!);
      } catch (e) {
        filter = this.withoutMark(e, q, filter);
        specs = this.inetSpecs(q, filter, make);
        end = yield* this.run(specs[i]!);
      }
      interrupted ||= end.interrupted;
    }
    return (this.status = inetStatus(interrupted, filter.plan));
  }

  private async *inetDumpAsync<T extends InetRecord>(q: InetQuery, make: MakeInet<T>): AsyncGenerator<T, DumpStatus> {
    checkInetQuery(q);
    let filter = this.planFilter(q, true);
    let specs = this.inetSpecs(q, filter, make);
    let interrupted = false;
    for (let i = 0; !filter.plan?.empty && i < specs.length; i++) {
      let end: ReplyEnd;
      try {
        end = yield* this.runAsync(specs[i]!);
      } catch (e) {
        filter = this.withoutMark(e, q, filter);
        specs = this.inetSpecs(q, filter, make);
        end = yield* this.runAsync(specs[i]!);
      }
      interrupted ||= end.interrupted;
    }
    return (this.status = inetStatus(interrupted, filter.plan));
  }

  /**
   * Mark conditions need CAP_NET_ADMIN: the kernel refuses such a program (EPERM)
   * before it sends anything. Then the plan without them, to run again; else `e` again.
   */
  private withoutMark(e: unknown, q: InetQuery, filter: InetFilter): InetFilter {
    if (!(e instanceof NetlinkError && e.code === 'EPERM' && filter.plan?.needsNetAdmin)) throw e;
    return this.planFilter(q, false);
  }

  /**
   * Looks up one INET socket by its 4-tuple (`src` is the local end); undefined when
   * the kernel has none. For TCP the kernel answers with the socket that would receive
   * the 4-tuple's packets, which may be a listener rather than a connection.
   */
  inetLookup(q: InetLookup): InetSocket | undefined {
    checkInetLookup(q);
    const protocol = IpProtocol[q.protocol ?? 'tcp'];
    return this.lookup(inetRequest(lookupId(q), q.family, stateMask(undefined)), (m) => decodeInetSocket(m, protocol));
  }

  /**
   * Destroys every socket the query matches, as `ss -K` does: the dump runs on this
   * socket while the destroy requests go out on a second one. Yields each socket
   * with the outcome. A query without `filter`, `states`, `sport` or `dport`
   * destroys every socket of the protocol: pass `all: true` to mean it.
   * @throws DestroyUnsupportedError without CAP_NET_ADMIN or kernel support.
   */
  *destroy(q: InetQuery & { all?: boolean }): Generator<DestroyResult, DumpStatus> {
    checkInetQuery(q);
    if (!q.all && !q.filter && !q.states && q.sport === undefined && q.dport === undefined) {
      throw new TypeError('destroy() without a filter, states or ports would destroy every socket: pass all: true to mean it');
    }
    using killer = NetlinkSocket.open(NetlinkProtocol['sock-diag'], { netns: this.netns });
    const dump = this.inet(q);
    try {
      let r = dump.next();
      for (; !r.done; r = dump.next()) yield { socket: r.value, error: destroyOne(killer, socketId(r.value, q.protocol)) };
      return r.value;
    } finally {
      dump.return(this.status);
    }
  }

  /** Destroys one socket by its 4-tuple (and cookie); the NetlinkError is ENOENT when there is none. */
  destroyOne(id: InetLookup): NetlinkError | undefined {
    checkInetLookup(id);
    return destroyOne(this.socket, id);
  }

  /** Dumps UNIX sockets. */
  *unix(q: UnixQuery = {}): Generator<UnixSocket, DumpStatus> {
    checkUnixQuery(q);
    return (this.status = yield* this.run(this.unixSpec(q, decodeUnixSocket)));
  }

  /** Like {@link SockDiag.unix}, without holding the event loop for more than one receive buffer at a time. */
  async *unixAsync(q: UnixQuery = {}): AsyncGenerator<UnixSocket, DumpStatus> {
    checkUnixQuery(q);
    return (this.status = yield* this.runAsync(this.unixSpec(q, decodeUnixSocket)));
  }

  /** Like {@link SockDiag.unix}, but yields views of the receive buffer (see {@link SockDiag.inetViews}). */
  *unixViews(q: UnixQuery = {}): Generator<UnixSocketView, DumpStatus> {
    checkUnixQuery(q);
    return (this.status = yield* this.run(this.unixSpec(q, viewUnix)));
  }

  /** {@link SockDiag.unixViews} on the event loop. */
  async *unixViewsAsync(q: UnixQuery = {}): AsyncGenerator<UnixSocketView, DumpStatus> {
    checkUnixQuery(q);
    return (this.status = yield* this.runAsync(this.unixSpec(q, viewUnix)));
  }

  /** Looks up one UNIX socket by inode (and cookie); undefined when no such socket exists. */
  unixLookup(inode: number, cookie?: bigint, q: UnixQuery = {}): UnixSocket | undefined {
    checkUnixLookup(inode, cookie, q);
    return this.lookup(unixRequest(q, inode, cookie), decodeUnixSocket);
  }

  /**
   * Dumps the sockets of another family: `netlink`, `packet`, `xdp`, `vsock`, `smc`
   * or `tipc`, with every attribute the family reports.
   * @throws NoDiagSupportError when this kernel has no diag module for the family.
   */
  *sockets<F extends FamilyName>(family: F, q: DumpOptions = {}): Generator<FamilySockets[F], DumpStatus> {
    checkFamily(family);
    checkDumpOptions(q);
    return (this.status = yield* this.run(this.familySpec(family, q)));
  }

  /** Like {@link SockDiag.sockets}, without holding the event loop for more than one receive buffer at a time. */
  async *socketsAsync<F extends FamilyName>(family: F, q: DumpOptions = {}): AsyncGenerator<FamilySockets[F], DumpStatus> {
    checkFamily(family);
    checkDumpOptions(q);
    return (this.status = yield* this.runAsync(this.familySpec(family, q)));
  }

  /** Sends a raw request (any family) and yields its reply messages, valid until the next step. */
  raw(type: number, flags: number, payload: Uint8Array): Generator<NetlinkMessage, ReplyEnd> {
    return this.socket.request(type, flags, payload);
  }

  close(): void {
    this.socket.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** The dumps of an INET query: one per request (see inetRequests). */
  private inetSpecs<T extends InetRecord>(q: InetQuery, filter: InetFilter, make: MakeInet<T>): DumpSpec<T>[] {
    const protocol = IpProtocol[q.protocol ?? 'tcp'];
    const requests = inetRequests({ ...q, bytecode: filter.plan?.bytecode ?? q.bytecode }, stateMask(q.states));
    return requests.map(({ type, payload }) => ({
      what: (q.protocol ?? 'tcp').toUpperCase(),
      type,
      request: payload,
      decode: (m, lease) => make(m, protocol, lease),
      keep: (s) => portsMatch(q, s) && filter.keep(s),
      retries: q.retries,
    }));
  }

  private unixSpec<T extends { type: string }>(q: UnixQuery, decode: DumpSpec<T>['decode']): DumpSpec<T> {
    return { what: 'UNIX', type: BY_FAMILY, request: unixRequest(q), decode, keep: q.type && ((s) => s.type === q.type), retries: q.retries };
  }

  private familySpec<F extends FamilyName>(family: F, q: DumpOptions): DumpSpec<FamilySockets[F]> {
    const spec = FAMILIES[family];
    return { what: family.toUpperCase(), type: BY_FAMILY, request: spec.request(), decode: (m) => spec.decode(m) as FamilySockets[F], retries: q.retries };
  }

  /** Splits `q.filter` between the kernel and user space. */
  private planFilter(q: InetQuery, mark: boolean): InetFilter {
    if (!q.filter) return { keep: () => true };
    // Interface names mean the interfaces of the namespace asked about, as in ss.
    const ifindex = (name: string) => interfaceIndex(name, this.netns);
    const plan = planFilter(q.filter, { mark, ifindex });
    return { plan, keep: plan.userspace ? createMatcher(plan.userspace, { ifindex }) : () => true };
  }

  /**
   * Runs a dump and decodes its sockets. When the kernel flags the dump as
   * interrupted and `retries` allows, runs it again and yields only the sockets
   * (by cookie) not yielded before, so no socket appears twice.
   */
  private *run<T>(d: DumpSpec<T>): Generator<T, ReplyEnd> {
    if (this.readerThread) prepareLargeDump(this.netns);
    const retries = d.retries ?? 0;
    const seen = retries > 0 ? new Set<bigint>() : undefined;
    for (let attempt = 0; ; attempt++) {
      // One receive buffer at a time: a generator step per datagram, not per message.
      const replies = this.socket.requestBatches(d.type, DUMP, d.request);
      let lease: DatagramLease | undefined;
      try {
        let r = first(d.what, () => replies.next());
        for (; !r.done; r = replies.next()) {
          const batch = r.value;
          lease = new DatagramLease();
          for (let i = 0; i < batch.length; i++) {
            const m = batch[i]!;
            // Dispatch on the message type before looking at the payload.
            if (m.type !== d.type) continue;
            const s = d.decode(m, lease);
            if ((d.keep && !d.keep(s)) || !fresh(seen, s)) continue;
            yield s;
          }
          // The next step reuses the receive buffer.
          lease.end();
        }
        if (!r.value.interrupted || attempt >= retries) return r.value;
      } finally {
        lease?.end();
        replies.return(UNFINISHED);
      }
    }
  }

  /** {@link SockDiag.run} on the event loop. */
  private async *runAsync<T>(d: DumpSpec<T>): AsyncGenerator<T, ReplyEnd> {
    if (this.readerThread) prepareLargeDump(this.netns);
    const retries = d.retries ?? 0;
    const seen = retries > 0 ? new Set<bigint>() : undefined;
    for (let attempt = 0; ; attempt++) {
      const replies = this.socket.requestBatchesAsync(d.type, DUMP, d.request);
      let lease: DatagramLease | undefined;
      try {
        let r = await firstAsync(d.what, () => replies.next());
        for (; !r.done; r = await replies.next()) {
          lease = new DatagramLease();
          for (const m of r.value) {
            if (m.type !== d.type) continue;
            const s = d.decode(m, lease);
            if ((d.keep && !d.keep(s)) || !fresh(seen, s)) continue;
            yield s;
          }
          lease.end();
        }
        if (!r.value.interrupted || attempt >= retries) return r.value;
      } finally {
        lease?.end();
        await replies.return(UNFINISHED);
      }
    }
  }

  private lookup<T>(request: Uint8Array, decode: (m: NetlinkMessage) => T): T | undefined {
    try {
      for (const m of this.socket.request(BY_FAMILY, 0, request)) if (m.type === BY_FAMILY) return decode(m);
      return undefined;
    } catch (e) {
      // ENOENT: no socket has that address or inode. ESTALE: one has, but not the cookie
      // asked for (unix_diag; inet_diag answers ENOENT then).
      if (e instanceof NetlinkError && (e.code === 'ENOENT' || e.code === 'ESTALE')) return undefined;
      throw e;
    }
  }
}

/** True the first time a socket's cookie is seen (always true without a set, or for records without a cookie). */
function fresh(seen: Set<bigint> | undefined, s: unknown): boolean {
  const cookie = (s as Cookied).cookie;
  if (!seen || cookie === undefined) return true;
  if (seen.has(cookie)) return false;
  seen.add(cookie);
  return true;
}

/** The first reply step; ENOENT there means the kernel has no handler for the request. */
function first<R>(what: string, step: () => R): R {
  try {
    return step();
  } catch (e) {
    throw e instanceof NetlinkError && e.code === 'ENOENT' ? new NoDiagSupportError(what, e) : e;
  }
}

async function firstAsync<R>(what: string, step: () => Promise<R>): Promise<R> {
  try {
    return await step();
  } catch (e) {
    throw e instanceof NetlinkError && e.code === 'ENOENT' ? new NoDiagSupportError(what, e) : e;
  }
}
