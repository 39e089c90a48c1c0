/**
 * Decodes replies captured from a real kernel (test/fixtures/capture.ts) and checks
 * every value against what `ss` printed for the same sockets at capture time.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeInetSocket } from '../query/inet.js';
import { decodeUnixSocket } from '../query/unix.js';
import { SkMeminfo } from '../generated/sock_diag.js';
import type { NetlinkMessage } from '../runtime/netlink-socket.js';

interface Fixture {
  ss: string;
  path?: string;
  messages: { type: number; flags: number; payload: string }[];
}
const load = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/kernel/${name}`, import.meta.url), 'utf8')) as Fixture;
const message = (m: Fixture['messages'][number]): NetlinkMessage => {
  const bytes = Buffer.from(m.payload, 'hex');
  return { type: m.type, flags: m.flags, seq: 1, pid: 0, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.length), offset: 0, length: bytes.length };
};
/** `key:value` pairs of an ss line. */
const fields = (line: string) => Object.fromEntries([...line.matchAll(/(\w+):([^\s]+)/g)].map((m) => [m[1]!, m[2]!]));

describe('a TCP reply captured from the kernel', () => {
  const f = load('tcp-established.json');
  const sock = decodeInetSocket(message(f.messages[0]!));
  const [head, detail] = f.ss.split('\n\t');
  const ss = fields(`${head} ${detail}`);
  const [local, peer] = head!.trim().split(/\s+/).slice(2, 4);

  it('has the addresses, ports, inode and cookie ss saw', () => {
    expect(f.messages).toHaveLength(1);
    expect(`${sock.src}:${sock.sport}`).toBe(local);
    expect(`${sock.dst}:${sock.dport}`).toBe(peer);
    expect(sock.inode).toBe(Number(ss.ino));
    expect(sock.cookie.toString(16)).toBe(ss.sk);
    expect(sock.state).toBe('established');
  });

  it('decodes tcp_info as ss does (window scales from the two nibbles of byte 6)', () => {
    const i = sock.info!;
    expect(`${i.sndWscale},${i.rcvWscale}`).toBe(ss.wscale);
    expect(String(i.sndCwnd)).toBe(ss.cwnd);
    expect(String(i.sndMss)).toBe(ss.mss);
    expect(String(i.rto / 1000)).toBe(ss.rto);
    expect(`${i.rtt / 1000}/${i.rttvar / 1000}`).toBe(ss.rtt);
    expect(String(i.bytesSent)).toBe(ss.bytes_sent);
    expect(String(i.bytesAcked)).toBe(ss.bytes_acked);
    expect(String(i.segsOut)).toBe(ss.segs_out);
    expect(String(i.segsIn)).toBe(ss.segs_in);
    expect(String(i.rcvSpace)).toBe(ss.rcv_space);
    expect(String(i.sndWnd)).toBe(ss.snd_wnd);
    expect(i.deliveryRateAppLimited).toBe(f.ss.includes(' app_limited') ? 1 : 0);
  });

  it('decodes the congestion control name, its info by attribute type, and skmeminfo', () => {
    expect(f.ss).toContain(` ${sock.cong} `);
    if (sock.cong === 'bbr') expect(sock.bbrinfo).toBeDefined();
    const skmem = /skmem:\(r(\d+),rb(\d+),t(\d+),tb(\d+),f(\d+),w(\d+),o(\d+),bl(\d+),d(\d+)\)/.exec(f.ss)!.slice(1).map(Number);
    expect(sock.skmeminfo).toHaveLength(Object.keys(SkMeminfo).length);
    expect(sock.skmeminfo).toEqual(skmem);
    expect(sock.meminfo).toBeDefined();
  });
});

describe('UNIX replies captured with every UDIAG_SHOW flag', () => {
  const f = load('unix-all-show.json');
  const socks = f.messages.map((m) => decodeUnixSocket(message(m)));
  const byInode = new Map(socks.map((s) => [s.inode, s]));
  const ssRows = f.ss.trim().split('\n').map((l) => l.trim().split(/\s+/));

  it('finds every socket ss listed, with its name, state and peer', () => {
    const label: Record<string, string> = { established: 'ESTAB', listen: 'LISTEN', close: 'UNCONN' };
    for (const row of ssRows) {
      const [, state, , , name, inode, peerName, peer] = row;
      const s = byInode.get(Number(inode));
      expect(s, `inode ${inode}`).toBeDefined();
      expect(label[s!.state] ?? s!.state).toBe(state);
      expect(s!.path ?? '*').toBe(name);
      expect(String(s!.peer ?? 0)).toBe(peer);
      void peerName;
    }
  });

  it('reports the listener\'s pending connection, backlog, VFS inode and uid', () => {
    const listener = socks.find((s) => s.path === f.path)!;
    expect(listener.state).toBe('listen');
    const ss = /ino:(\d+) dev:\d+\/\d+ peers: (\d+)/.exec(f.ss)!;
    expect(listener.icons).toEqual([Number(ss[2])]);
    expect(listener.rqlen).toEqual({ udiagRqueue: 1, udiagWqueue: 7, extra: undefined });
    expect(listener.vfs?.udiagVfsIno).toBe(Number(ss[1]));
    expect(listener.uid).toBe(0);
    expect(listener.meminfo).toHaveLength(9);
  });

  it('shows an abstract name with a leading @', () => {
    const abstract = socks.find((s) => s.path?.startsWith('@sockdiag-fixture-'));
    expect(abstract?.name?.[0]).toBe(0);
  });
});
