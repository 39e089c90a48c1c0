/**
 * Socket destroy and destroy events, in a private network namespace: the destroyed
 * socket's peer sees the reset, sockets the filter does not match survive, and the
 * watcher sees exactly the sockets that went away while the event loop keeps running.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dport, sport, and, SockDiag, watch, type InetSocket } from '../../query/index.js';
import { SyscallError } from '../../runtime/errors.js';
import { Holder, kernelTestsSkipReason, Netns, type HeldSocket } from '../helpers/netns.js';

const skip = kernelTestsSkipReason();
if (skip) console.warn(`skipping destroy and watch tests: ${skip}`);

describe.skipIf(skip !== undefined)(`destroy and destroy events${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let ns: Netns;
  let holder: Holder;
  let listener: HeldSocket;

  beforeAll(async () => {
    ns = Netns.create('destroy');
    holder = await Holder.start(ns, 'node');
    listener = await holder.request<HeldSocket>('listen', { host: '127.0.0.1' });
  });
  afterAll(async () => {
    await holder?.stop();
    ns?.delete();
  });

  const connect = () => holder.request<{ client: HeldSocket; server: HeldSocket }>('connect', { listener: listener.sock, host: '127.0.0.1' });
  const errorOf = async (sock: string) => (await holder.request<{ error: string | null }>('error', { sock })).error;
  const established = () => {
    using diag = SockDiag.open({ netns: ns.spec });
    return [...diag.inet({ family: 'inet', states: ['established'] })];
  };

  it('destroys the TCP connection the filter matches; its peer sees the reset, the other connection survives', async () => {
    const victim = await connect();
    const bystander = await connect();
    using diag = SockDiag.open({ netns: ns.spec });
    // The server end of the victim: local port is the listener's, remote port the victim client's.
    const results = [...diag.destroy({ family: 'inet', filter: and(sport('=', listener.localPort!), dport('=', victim.client.localPort!)) })];
    expect(results.map((r) => [r.socket.sport, r.socket.dport, r.error?.code])).toEqual([[listener.localPort, victim.client.localPort, undefined]]);
    await sleep(200);
    expect(await errorOf(victim.client.sock)).toBe('ECONNRESET');
    expect(await errorOf(bystander.client.sock)).toBeNull();
    const left = established().map((s) => s.inode);
    expect(left).not.toContain(victim.server.inode);
    expect(left).toEqual(expect.arrayContaining([bystander.client.inode, bystander.server.inode]));
  });

  it('destroys a connected UDP socket, and leaves the one the filter does not match', async () => {
    const a = await holder.request<HeldSocket>('udp', { family: 4, host: '127.0.0.1' });
    const b = await holder.request<HeldSocket>('udp', { family: 4, host: '127.0.0.1', connect: { host: '127.0.0.1', port: a.localPort } });
    const c = await holder.request<HeldSocket>('udp', { family: 4, host: '127.0.0.1', connect: { host: '127.0.0.1', port: a.localPort } });
    using diag = SockDiag.open({ netns: ns.spec });
    const results = [...diag.destroy({ protocol: 'udp', family: 'inet', filter: sport('=', b.localPort!) })];
    expect(results.map((r) => [r.socket.inode, r.error?.code])).toEqual([[b.inode, undefined]]);
    const udp = [...diag.inet({ protocol: 'udp', family: 'inet' })].map((s) => s.inode);
    expect(udp).not.toContain(b.inode);
    expect(udp).toEqual(expect.arrayContaining([a.inode, c.inode]));
  });

  it('refuses to destroy everything unless told so', () => {
    using diag = SockDiag.open({ netns: ns.spec });
    expect(() => diag.destroy({}).next()).toThrow(/all: true/);
  });

  it('watch() yields exactly the sockets that close, with their ports, while timers keep firing', async () => {
    const stop = new AbortController();
    const seen: InetSocket[] = [];
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const watching = (async () => {
      for await (const s of watch({ netns: ns.spec, protocols: ['tcp'], signal: stop.signal })) seen.push(s);
    })();
    await sleep(100);
    const ticksBefore = ticks;
    const pairs = [await connect(), await connect(), await connect()];
    for (const p of pairs) {
      await holder.request('close', { sock: p.client.sock });
      await holder.request('close', { sock: p.server.sock });
    }
    await sleep(300);
    stop.abort();
    await watching;
    clearInterval(timer);
    expect(ticks - ticksBefore).toBeGreaterThan(20);
    const ports = (s: InetSocket) => `${s.sport}->${s.dport}`;
    const expected = pairs.flatMap((p) => [`${p.client.localPort}->${listener.localPort}`, `${listener.localPort}->${p.client.localPort}`]);
    expect(seen.map(ports).sort()).toEqual(expected.sort());
    for (const s of seen) {
      expect(s.family).toBe('inet');
      expect(s.src).toBe('127.0.0.1');
      expect(s.info).toBeDefined();
    }
  });

  /**
   * Watches TCP events with a tiny receive buffer and a consumer that takes 1 ms an
   * event, while a process that holds 601 sockets exits (601 events in a burst); then
   * closes one connection of the first holder. Returns what the watch saw, the
   * overflows reported, how it ended, and the connection's two events.
   */
  async function burst(onOverflow: (() => void) | undefined): Promise<{ seen: string[]; ended: unknown; after: string[] }> {
    const burster = await Holder.start(ns, 'node');
    const l = await burster.request<HeldSocket>('listen', { host: '127.0.0.1', backlog: 1024 });
    await burster.request('many', { listener: l.sock, host: '127.0.0.1', count: 300 });
    const stop = new AbortController();
    const seen: string[] = [];
    const ports = (s: InetSocket) => `${s.sport}->${s.dport}`;
    const watching = (async () => {
      for await (const s of watch({ netns: ns.spec, protocols: ['tcp'], signal: stop.signal, rcvbuf: 4096, onOverflow })) {
        seen.push(ports(s));
        const until = performance.now() + 1;
        while (performance.now() < until);
      }
    })().then(
      () => 'aborted',
      (e: unknown) => e,
    );
    await sleep(100);
    await burster.stop();
    await sleep(1000);
    const p = await connect();
    await holder.request('close', { sock: p.client.sock });
    await holder.request('close', { sock: p.server.sock });
    await sleep(300);
    stop.abort();
    const ended = await watching;
    return { seen, ended, after: [`${p.client.localPort}->${listener.localPort}`, `${listener.localPort}->${p.client.localPort}`] };
  }

  it('reports events lost to a full receive buffer through onOverflow, and goes on', async () => {
    let overflows = 0;
    const { seen, ended, after } = await burst(() => overflows++);
    expect(ended).toBe('aborted');
    expect(overflows).toBeGreaterThan(0);
    expect(seen.length).toBeLessThan(601 + 2);
    // The events after the burst still come.
    expect(seen).toEqual(expect.arrayContaining(after));
  });

  it('without onOverflow, ends the watch with ENOBUFS when events were lost', async () => {
    const { ended, seen, after } = await burst(undefined);
    expect(ended).toBeInstanceOf(SyscallError);
    expect((ended as SyscallError).code).toBe('ENOBUFS');
    expect(seen).not.toEqual(expect.arrayContaining(after));
  });
});
