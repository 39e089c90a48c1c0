/**
 * inetViews() and InetSocketView: against a reply captured from the kernel (every
 * field and attribute the decoder reads, read through the view), and against the real
 * kernel in a private network namespace (the sockets inet() finds, with the same
 * fields; filters; the lease that stops a view from reading a reused buffer).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IpProtocol } from '../../generated/socket.js';
import { decodeInetSocket } from '../../query/inet.js';
import { decodeUnixSocket } from '../../query/unix.js';
import type { InetDiagExtName } from '../../generated/inet_diag.js';
import { inet, inetViews, inetViewsAsync, InetSocketView, parseFilter, SockDiag, StaleViewError, UnixSocketView, type InetQuery, type InetSocket } from '../../query/index.js';
import { DatagramLease } from '../../runtime/lease.js';
import type { NetlinkMessage } from '../../runtime/netlink-socket.js';
import { Holder, kernelTestsSkipReason, Netns, type HeldSocket } from '../helpers/netns.js';
import { expectViewOf } from '../helpers/properties.js';

const fixture = JSON.parse(readFileSync(new URL('../fixtures/kernel/tcp-established.json', import.meta.url), 'utf8')) as { messages: { type: number; flags: number; payload: string }[] };
const captured = (): NetlinkMessage => {
  const bytes = Buffer.from(fixture.messages[0]!.payload, 'hex');
  return { type: fixture.messages[0]!.type, flags: 0, seq: 1, pid: 0, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.length), offset: 0, length: bytes.length };
};

/** Every field of InetSocket outside the attributes. */
const HEADER_FIELDS = ['family', 'state', 'timer', 'retrans', 'src', 'dst', 'sport', 'dport', 'ifindex', 'cookie', 'expires', 'rqueue', 'wqueue', 'uid', 'inode'] as const;

describe('an InetSocketView of a reply captured from the kernel', () => {
  const tcp = IpProtocol.tcp;

  it('reads every field and attribute the decoder decodes, tcp_info and the congestion info included', () => {
    const m = captured();
    const decoded = decodeInetSocket(m, tcp);
    // What the capture holds besides the header: the view must read each of these.
    expect(Object.keys(decoded)).toEqual(expect.arrayContaining(['info', 'cong', 'skmeminfo', 'meminfo']));
    const view = new InetSocketView(m, tcp, new DatagramLease());
    for (const k of HEADER_FIELDS) expect(view[k], k).toEqual(decoded[k]);
    // Every getter, the inherited attribute ones and those of nested views included, and decode().
    expectViewOf(view as unknown as Parameters<typeof expectViewOf>[0], { ...decoded });
  });

  it('reads tcp_info as the selector says: for MPTCP the same attribute is mptcp_info', () => {
    const view = new InetSocketView(captured(), IpProtocol.mptcp, new DatagramLease());
    expect(view.info).toBeUndefined();
    expect(view.decode().info).toBeUndefined();
  });

  it('throws StaleViewError once its datagram is gone, from the header, the attributes, nested views and decode()', () => {
    const lease = new DatagramLease();
    const view = new InetSocketView(captured(), tcp, lease);
    const info = view.info!;
    lease.end();
    for (const read of [() => view.sport, () => view.src, () => view.cong, () => view.info, () => info.rtt, () => view.decode()]) {
      expect(read).toThrow(StaleViewError);
    }
  });
});

describe('a UnixSocketView of a reply captured from the kernel', () => {
  const unixFixture = JSON.parse(readFileSync(new URL('../fixtures/kernel/unix-all-show.json', import.meta.url), 'utf8')) as typeof fixture;

  it('reads every field and attribute the decoder decodes, the display name included', () => {
    for (const f of unixFixture.messages) {
      const bytes = Buffer.from(f.payload, 'hex');
      const m: NetlinkMessage = { type: f.type, flags: 0, seq: 1, pid: 0, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.length), offset: 0, length: bytes.length };
      const decoded = decodeUnixSocket(m);
      const lease = new DatagramLease();
      const view = new UnixSocketView(m, lease);
      expectViewOf(view as unknown as Parameters<typeof expectViewOf>[0], { ...decoded });
      lease.end();
      expect(() => view.inode).toThrow(StaleViewError);
    }
    expect(unixFixture.messages.length).toBeGreaterThan(0);
  });
});

const skipReason = kernelTestsSkipReason();
if (skipReason) console.warn(`test/query/views.test.ts skipped: ${skipReason}`);

describe.skipIf(!!skipReason)(`inetViews() in a private network namespace${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let ns: Netns;
  let holder: Holder;
  let l4: HeldSocket;
  let l6: HeldSocket;
  let pair4: { client: HeldSocket; server: HeldSocket };
  let pair6: { client: HeldSocket; server: HeldSocket };
  const ext: InetDiagExtName[] = ['meminfo', 'info', 'vegasinfo', 'cong', 'tos', 'tclass', 'skmeminfo', 'shutdown'];
  const q = (more: InetQuery = {}): InetQuery => ({ netns: ns.spec, ext, ...more });

  beforeAll(async () => {
    ns = Netns.create('views');
    holder = await Holder.start(ns, 'node', { user: 'nobody' });
    l4 = await holder.request('listen', { host: '127.0.0.1' });
    l6 = await holder.request('listen', { host: '::1' });
    pair4 = await holder.request('connect', { listener: l4.sock, host: '127.0.0.1' });
    pair6 = await holder.request('connect', { listener: l6.sock, host: '::1' });
    await holder.request('write', { sock: pair4.client.sock, bytes: 1000 });
  });

  afterAll(async () => {
    await holder?.stop();
    ns?.delete();
  });

  /** The fields of a socket that do not move between two dumps of idle sockets. */
  const stable = (s: Pick<InetSocket, (typeof HEADER_FIELDS)[number] | 'cong' | 'shutdown' | 'tos' | 'info' | 'skmeminfo'>) => ({
    ...Object.fromEntries(HEADER_FIELDS.filter((k) => k !== 'expires').map((k) => [k, s[k]])),
    cong: s.cong,
    shutdown: s.shutdown,
    tos: s.tos,
    mss: s.info?.sndMss,
    wscale: s.info && [s.info.sndWscale, s.info.rcvWscale],
    rcvbuf: s.skmeminfo?.[1],
  });

  it('yields the sockets inet() yields, with the same fields, and decode() gives inet()\'s record', () => {
    const eager = new Map([...inet(q())].map((s) => [s.cookie, s]));
    expect(eager.size).toBe(6);
    const seen: bigint[] = [];
    for (const v of inetViews(q())) {
      const e = eager.get(v.cookie)!;
      expect(e, `cookie ${v.cookie}`).toBeDefined();
      expect(stable(v as unknown as InetSocket)).toEqual(stable(e));
      expect(stable(v.decode())).toEqual(stable(e));
      expect(Object.keys(v.decode()).sort()).toEqual(Object.keys(e).sort());
      seen.push(v.cookie);
    }
    expect(new Set(seen)).toEqual(new Set(eager.keys()));
    const sent = [...inetViews(q({ sport: l4.localPort }))].length;
    expect(sent).toBe(2);
  });

  it('a view read after the dump moved on throws StaleViewError; one decoded inside the loop stays', () => {
    const kept: InetSocketView[] = [];
    const decoded: InetSocket[] = [];
    for (const v of inetViews(q())) {
      kept.push(v);
      decoded.push(v.decode());
    }
    expect(kept.length).toBe(6);
    for (const v of kept) expect(() => v.sport).toThrow(StaleViewError);
    expect(new Set(decoded.map((s) => s.inode))).toEqual(new Set([...inet(q())].map((s) => s.inode)));
    // Stopping early ends the lease too.
    let first: InetSocketView | undefined;
    for (const v of inetViews(q())) {
      first = v;
      break;
    }
    expect(() => first!.state).toThrow(StaleViewError);
  });

  it('runs on the event loop too (inetViewsAsync)', async () => {
    const ports: number[] = [];
    for await (const v of inetViewsAsync(q({ family: 'inet6' }))) ports.push(v.sport);
    const sorted = (a: number[]) => [...a].sort((x, y) => x - y);
    expect(sorted(ports)).toEqual(sorted([l6.localPort!, pair6.client.localPort!, pair6.server.localPort!]));
  });

  it('a filter that user space tests runs on views as on records', () => {
    // An interface name that does not resolve cannot go to the kernel: user space tests the whole filter.
    const filter = parseFilter(`sport = :${pair4.client.localPort} or dev nosuchdev0`)!;
    using diag = SockDiag.open({ netns: ns.spec });
    const viaViews: number[] = [];
    for (const v of diag.inetViews({ ext, filter })) viaViews.push(v.inode);
    expect(diag.status.filter?.userspace).not.toBeNull();
    expect(viaViews).toEqual([pair4.client.inode]);
    expect([...diag.inet({ ext, filter })].map((s) => s.inode)).toEqual(viaViews);
  });
});
