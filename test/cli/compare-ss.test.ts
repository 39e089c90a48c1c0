/**
 * The built command against ss, on the same private network namespace with known
 * sockets in it (opened by a child process inside the namespace): rows compared as
 * sets of tuples, details (-e, -i, -m, -p) field by field.
 *
 * sockdiag's default is numeric (ss -n): it is compared with `ss -n...` throughout.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NlmsgType } from '../../generated/netlink.js';
import { decodeInetSocket } from '../../query/inet.js';
import { parseMessages } from '../../runtime/netlink-socket.js';
import { endpoint, field, openNamespace, parseTable, sockdiag, ss, tuple, type Namespace, type Row } from '../helpers/cli-netns.js';

let ns: Namespace;
beforeAll(async () => {
  ns = await openNamespace();
});
afterAll(async () => {
  await ns?.close();
});

/** Runs both tools with the same flags (`-N` for sockdiag, `ip netns exec` for ss) and parses their tables. */
function both(flags: string[], opts: { unix?: boolean } = {}): { ours: Row[]; theirs: Row[] } {
  const o = sockdiag(['-N', ns.name, ...flags]);
  expect(o.stderr).toBe('');
  expect(o.status).toBe(0);
  const t = ss(ns.name, flags);
  expect(t.status).toBe(0);
  return { ours: parseTable(o.stdout, opts), theirs: parseTable(t.stdout, opts) };
}

const tuples = (rows: Row[]) => new Set(rows.map(tuple));
/** Each tool's own sock_diag socket (NETLINK_SOCK_DIAG, its own port id): it differs between the two. */
const ownDiagSocket = (r: Row) => /^(4|tcpdiag):[^0k]/.test(r.local);
const byEndpoints = (rows: Row[]) => new Map(rows.map((r) => [`${r.local} ${r.peer}`, r]));

describe('rows, as sets of (state, local, peer, Recv-Q, Send-Q)', () => {
  it('-tan: every TCP socket in every state', () => {
    const { ours, theirs } = both(['-tan']);
    expect(tuples(ours)).toEqual(tuples(theirs));
    // The namespace holds what the child opened, in the states it left them in.
    const s = ns.sockets;
    const states = new Map(ours.map((r) => [`${r.local} ${r.peer}`, r]));
    const listener = endpoint(s.tcp.listener.local);
    expect(states.get(`${listener} 0.0.0.0:*`)).toMatchObject({ state: 'LISTEN', recvQ: '1', sendQ: '16' });
    expect(states.get(`${endpoint(s.tcp.client.local)} ${listener}`)).toMatchObject({ state: 'ESTAB', recvQ: '300' });
    expect(states.get(`${listener} ${endpoint(s.tcp.client.local)}`)).toMatchObject({ state: 'ESTAB', recvQ: '1000' });
    expect(states.get(`${endpoint(s.tcp.finWait2.local)} ${listener}`)).toMatchObject({ state: 'FIN-WAIT-2' });
    expect(states.get(`${listener} ${endpoint(s.tcp.finWait2.local)}`)).toMatchObject({ state: 'CLOSE-WAIT' });
    expect(states.get(`${endpoint(s.tcpTimeWait.local)} ${listener}`)).toMatchObject({ state: 'TIME-WAIT' });
    if (s.tcp.listener6) expect(states.get(`${endpoint(s.tcp.listener6.local)} [::]:*`)).toMatchObject({ state: 'LISTEN' });
    // A dual-stack wildcard (IPV6_V6ONLY off) takes IPv4 too: ss prints it as *.
    if (s.tcp.dual) expect(states.get(`*:${s.tcp.dual.local[1]} *:*`)).toMatchObject({ state: 'LISTEN' });
  });

  it('-tn (no -a): connected sockets only, as ss lists them', () => {
    const { ours, theirs } = both(['-tn']);
    expect(tuples(ours)).toEqual(tuples(theirs));
    expect(ours.some((r) => r.state === 'LISTEN' || r.state === 'TIME-WAIT')).toBe(false);
  });

  it.each(
    [
      ['state', 'connected'],
      ['state', 'synchronized'],
      ['state', 'bucket'],
      ['state', 'big'],
      ['state', 'fin-wait-2', 'state', 'close-wait'],
      ['exclude', 'established'],
    ].map((w) => [w.join(' '), w] as const),
  )('-tn %s: the same state words, the same sockets', (_, words) => {
    const { ours, theirs } = both(['-tn', ...words]);
    expect(tuples(ours)).toEqual(tuples(theirs));
    expect(ours.length).toBeGreaterThan(0);
  });

  it.each([['-tan4'], ['-tan6'], ['-uan6'], ['-tanf', 'inet6'], ['-an', '-A', 'tcp,udp']].map((f) => [f.join(' '), f] as const))('%s: the same sockets', (_, flags) => {
    const { ours, theirs } = both([...flags]);
    expect(tuples(ours)).toEqual(tuples(theirs));
    expect(ours.length).toBeGreaterThan(0);
  });

  it('-an: the tables in the order ss lists them (netlink, packet, UNIX, UDP, TCP)', () => {
    // RAW is left out: without raw_diag (this kernel has none), ss reads /proc/net/raw instead.
    const tableOf = (netid = '') => (netid === 'nl' ? 'netlink' : netid.startsWith('p_') ? 'packet' : netid.startsWith('u_') ? 'unix' : netid);
    const order = (rows: Row[]) => rows.map((r) => tableOf(r.netid)).filter((t, i, all) => t !== 'raw' && t !== all[i - 1]);
    const { ours, theirs } = both(['-an'], { unix: true });
    expect(order(ours)).toEqual(order(theirs));
    expect(order(ours)).toEqual(expect.arrayContaining(['netlink', 'unix', 'udp', 'tcp']));
  });

  it('-0an: PACKET sockets as ss -n prints them (`*` for every protocol, `[2048]` for IPv4, the interface)', () => {
    const { ours, theirs } = both(['-0an']);
    const rows = (rs: Row[]) => rs.map((r) => [r.netid, r.state, r.local, r.peer, r.recvQ, r.sendQ].join(' | ')).sort();
    expect(rows(ours)).toEqual(rows(theirs));
    expect(ours.map((r) => r.local)).toEqual(expect.arrayContaining(['*:*', '[2048]:lo', '[0]:*']));
  });

  it('--netlink: as ss -n prints them (numbers), and with -r as ss prints them (names, command/pid)', () => {
    const rows = (rs: Row[]) => rs.filter((r) => !ownDiagSocket(r)).map((r) => [r.state, r.local, r.peer, r.recvQ, r.sendQ].join(' | ')).sort();
    const numeric = sockdiag(['-N', ns.name, '--netlink', '-an']);
    const named = sockdiag(['-N', ns.name, '--netlink', '-ar']);
    const ssNumeric = ss(ns.name, ['-A', 'netlink', '-an']);
    const ssNamed = ss(ns.name, ['-A', 'netlink', '-a']);
    for (const r of [numeric, named, ssNumeric, ssNamed]) expect(r.status).toBe(0);
    expect(rows(parseTable(numeric.stdout))).toEqual(rows(parseTable(ssNumeric.stdout)));
    expect(rows(parseTable(named.stdout))).toEqual(rows(parseTable(ssNamed.stdout)));
    const { portid, pid } = ns.sockets.netlink;
    expect(parseTable(numeric.stdout).map((r) => r.local)).toEqual(expect.arrayContaining(['0:0', `0:${portid}`]));
    // A socket connected to the route socket shows it as its peer, group:portid.
    expect(parseTable(numeric.stdout).map((r) => r.peer)).toContain(`0:${portid}`);
    const command = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    expect(parseTable(named.stdout).map((r) => r.local)).toEqual(expect.arrayContaining(['rtnl:kernel', `rtnl:${command}/${pid}`]));
  });

  it('-F FILE: the same sockets as ss for an expression split between the command line and a file', () => {
    const port = ns.sockets.tcp.listener.local[1];
    const dir = mkdtempSync(join(tmpdir(), 'sockdiag-filter-'));
    try {
      const file = join(dir, 'listener.filter');
      writeFileSync(file, `# the listener and its peers\nsport = :${port}\n\nor dport = :${port} )\n`);
      const { ours, theirs } = both(['-tan', '-F', file, 'not', 'dst', '127.0.0.9', 'and', '(']);
      expect(tuples(ours)).toEqual(tuples(theirs));
      expect(ours.length).toBeGreaterThanOrEqual(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('-D FILE: the same TCP sockets as ss -D writes, as netlink messages that end with NLMSG_DONE', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sockdiag-raw-'));
    /** The sockets of a -D file (state, ends) and how many NLMSG_DONE it holds. */
    const read = (file: string) => {
      const bytes = readFileSync(file);
      const messages = parseMessages(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), bytes.length);
      const sockets = messages.filter((m) => m.type !== NlmsgType.done).map((m) => decodeInetSocket(m));
      return { sockets: new Set(sockets.map((x) => `${x.state} ${x.src}:${x.sport} ${x.dst}:${x.dport}`)), done: messages.length - sockets.length };
    };
    try {
      const [ours, theirs] = [join(dir, 'ours'), join(dir, 'theirs')];
      for (const args of [['-tan'], ['-tn']]) {
        const r = sockdiag(['-N', ns.name, '-D', ours, ...args]);
        expect(r.stderr + r.stdout).toBe('');
        expect(ss(ns.name, ['-D', theirs, ...args]).status).toBe(0);
        const [o, t] = [read(ours), read(theirs)];
        expect(o.sockets, args.join(' ')).toEqual(t.sockets);
        expect(o.sockets.size, args.join(' ')).toBeGreaterThan(5);
        expect(o.done).toBeGreaterThan(0);
      }
      // With an expression: the sockets the listing shows (ss 6.1 -D ignores the expression).
      const expr = `sport = :${ns.sockets.tcp.listener.local[1]}`;
      expect(sockdiag(['-N', ns.name, '-tn', '-D', ours, expr]).status).toBe(0);
      const listed = parseTable(sockdiag(['-N', ns.name, '-tn', expr]).stdout).map((r) => `${r.local} ${r.peer}`);
      expect([...read(ours).sockets].map((x) => x.split(' ').slice(1).join(' ')).sort()).toEqual(listed.sort());
      expect(listed.length).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('-tln: listeners', () => {
    const { ours, theirs } = both(['-tln']);
    expect(tuples(ours)).toEqual(tuples(theirs));
    expect(ours.length).toBeGreaterThanOrEqual(2);
  });

  it('-uan: bound and connected UDP sockets, with the unread datagram in Recv-Q', () => {
    const { ours, theirs } = both(['-uan']);
    expect(tuples(ours)).toEqual(tuples(theirs));
    const bound = ours.find((r) => r.local === endpoint(ns.sockets.udp.bound.local));
    expect(bound).toMatchObject({ state: 'UNCONN' });
    expect(Number(bound!.recvQ)).toBeGreaterThan(0);
    expect(ours.find((r) => r.local === endpoint(ns.sockets.udp.connected.local))).toMatchObject({ state: 'ESTAB' });
  });

  it("-xa src PATTERN: UNIX names against fnmatch patterns, as ss's unix_match()", () => {
    const u = ns.sockets.unix;
    const dir = u.listener.name!.slice(0, u.listener.name!.lastIndexOf('/'));
    const inodes = (rows: Row[]) => new Set(rows.map((r) => Number(r.local.split(' ')[1])));
    for (const [filter, want] of [
      [`src ${dir}/*`, [u.listener, u.server, u.dgram]],
      [`src ${dir}/s*.sock`, [u.listener, u.server]],
      [`src ${dir}/[!s]*`, [u.dgram]],
      [`src ${dir.slice(0, 4)}*`, [u.listener, u.server, u.dgram]], // '*' crosses '/'
      [`not src ${dir}/*`, undefined], // everything else, as ss says
      [`src ${dir}/*.sock and not src ${dir}/d*`, [u.listener, u.server]],
      [`src @sockdiag-*`, [u.escaped]],
    ] as const) {
      const { ours, theirs } = both(['-xa', filter], { unix: true });
      expect(inodes(ours), filter).toEqual(inodes(theirs));
      if (want) expect(inodes(ours), filter).toEqual(new Set(want.map((e) => e.inode)));
    }
    // With other tables listed, the pattern needs ss's unix: prefix; INET sockets never match it.
    const { ours, theirs } = both(['-a', '-A', 'unix,tcp', `src unix:${dir}/*`], { unix: true });
    expect(inodes(ours)).toEqual(inodes(theirs));
    expect(ours.every((r) => (r.netid ?? '').startsWith('u_'))).toBe(true);
  });

  it('-xa dst PATTERN: the peer by its name, which ss 6.1 does not know (it matches nothing there)', () => {
    const u = ns.sockets.unix;
    const r = sockdiag(['-N', ns.name, '-xa', 'dst', `${u.server.name}`]);
    expect(r.stderr).toBe('');
    const rows = parseTable(r.stdout, { unix: true });
    expect(rows.map((x) => x.local)).toEqual([`* ${u.client.inode}`]);
    expect(rows[0]!.peer).toBe(`${u.server.name} ${u.server.inode}`);
  });

  it('-xa: UNIX sockets (name, inode, peer inode, queues)', () => {
    const { ours, theirs } = both(['-xa'], { unix: true });
    const escaped = String(ns.sockets.unix.escaped.inode);
    // ss prints names raw; the abstract name with an escape sequence is checked in its own test.
    const plain = (rows: Row[]) => rows.filter((r) => !r.local.endsWith(` ${escaped}`));
    // sockdiag shows a connected socket's peer by name where ss 6.1 shows '*' (see the README):
    // compare the peer's inode here, and its name against the name ss gives that inode.
    const peerInode = (r: Row) => r.peer.split(' ')[1];
    const key = (r: Row) => [r.netid, r.state, r.local, peerInode(r), r.recvQ, r.sendQ].join(' | ');
    expect(new Set(plain(ours).map(key))).toEqual(new Set(plain(theirs).map(key)));
    const nameOf = new Map(theirs.map((r) => [r.local.split(' ')[1], r.local.split(' ')[0]]));
    for (const r of plain(ours)) {
      const [name, inode] = r.peer.split(' ');
      expect(name, r.peer).toBe(inode === '0' ? '*' : (nameOf.get(inode!) ?? '*'));
    }
    const u = ns.sockets.unix;
    const row = (inode: number) => ours.find((r) => r.local.endsWith(` ${inode}`));
    expect(row(u.listener.inode)).toMatchObject({ netid: 'u_str', state: 'LISTEN', local: `${u.listener.name} ${u.listener.inode}` });
    expect(row(u.server.inode)).toMatchObject({ state: 'ESTAB', recvQ: '200', peer: `* ${u.client.inode}` });
    expect(row(u.client.inode)).toMatchObject({ local: `* ${u.client.inode}`, peer: `${u.server.name} ${u.server.inode}` });
    expect(row(u.dgram.inode)).toMatchObject({ netid: 'u_dgr', state: 'UNCONN' });
    expect(row(u.pairA.inode)).toMatchObject({ netid: 'u_seq', peer: `* ${u.pairB.inode}` });
  });

  it.each([['unix_dgram'], ['unix_stream,unix_seqpacket']])('-a -A %s: only UNIX sockets of those types', (tables) => {
    const { ours, theirs } = both(['-a', '-A', tables], { unix: true });
    const inodes = (rows: Row[]) => new Set(rows.map((r) => r.local.split(' ').at(-1)));
    expect(inodes(ours)).toEqual(inodes(theirs));
    const want = tables.split(',').map((t) => ({ unix_dgram: 'u_dgr', unix_stream: 'u_str', unix_seqpacket: 'u_seq' })[t]);
    for (const r of ours) if (r.netid) expect(want, `${r.netid} ${r.local}`).toContain(r.netid);
  });

  it('-Man: MPTCP sockets', (ctx) => {
    if (!ns.sockets.mptcp) ctx.skip(`no MPTCP here: ${ns.sockets.mptcpError}`);
    const { ours, theirs } = both(['-Man']);
    expect(tuples(ours)).toEqual(tuples(theirs));
    const listener = ours.find((r) => r.local === endpoint(ns.sockets.mptcp!.listener.local) && r.peer === '0.0.0.0:*');
    expect(listener).toMatchObject({ state: 'LISTEN' });
  });

  it('-Mani: MPTCP sockets with -i (the kernel sends struct mptcp_info, not tcp_info)', (ctx) => {
    if (!ns.sockets.mptcp) ctx.skip(`no MPTCP here: ${ns.sockets.mptcpError}`);
    const o = sockdiag(['-N', ns.name, '-Mani']);
    expect(o.stderr).toBe('');
    expect(o.status).toBe(0);
    expect(tuples(parseTable(o.stdout))).toEqual(tuples(parseTable(ss(ns.name, ['-Mani']).stdout)));
  });
});

describe('details', () => {
  it('-tnie: ino, sk (cookie) and shutdown exactly; wscale, cwnd exactly; rtt loosely', () => {
    const { ours, theirs } = both(['-tnie']);
    const mine = byEndpoints(ours);
    expect(ours.length).toBe(theirs.length);
    let compared = 0;
    for (const t of theirs) {
      const o = mine.get(`${t.local} ${t.peer}`);
      expect(o, `${t.local} ${t.peer}`).toBeDefined();
      for (const name of ['ino', 'sk', 'uid']) expect(field(o!.rest, name), `${name} of ${t.local} ${t.peer}`).toBe(field(t.rest, name));
      expect(o!.rest.find((w) => /^[<-]-[>-]$/.test(w))).toBe(t.rest.find((w) => /^[<-]-[>-]$/.test(w)));
      const oi = o!.details.join(' ').split(/\s+/);
      const ti = t.details.join(' ').split(/\s+/);
      expect(field(oi, 'wscale'), `wscale of ${t.local} ${t.peer}`).toBe(field(ti, 'wscale'));
      expect(field(oi, 'cwnd'), `cwnd of ${t.local} ${t.peer}`).toBe(field(ti, 'cwnd'));
      const [ortt, ovar] = (field(oi, 'rtt') ?? '').split('/').map(Number);
      const [trtt, tvar] = (field(ti, 'rtt') ?? '').split('/').map(Number);
      expect(ortt).toBeGreaterThan(0);
      expect(Math.abs(ortt! - trtt!)).toBeLessThanOrEqual(Math.max(trtt! / 2, 0.05));
      expect(Math.abs(ovar! - tvar!)).toBeLessThanOrEqual(Math.max(tvar! / 2, 0.05));
      compared++;
    }
    // Connected sockets: the child's 4 IPv4 ones with a peer (+2 IPv6), 1 pending, plus MPTCP subflows.
    expect(compared).toBeGreaterThanOrEqual(5);
    const server = mine.get(`${endpoint(ns.sockets.tcp.server.local)} ${endpoint(ns.sockets.tcp.client.local)}`);
    expect(field(server!.rest, 'ino')).toBe(String(ns.sockets.tcp.server.inode));
  });

  // Words that change between two runs (times since the last send/receive/ACK) and
  // what ss 6.1 does not know yet (rcv_wnd, kernel 6.2) or sockdiag does not decode
  // (tcp-ulp-* of MPTCP subflows) are left out; MPTCP subflows are skipped.
  const infoWords = (r: Row) =>
    r.details
      .join(' ')
      .split(/\s+/)
      .filter((w) => w !== '' && !/^(lastsnd|lastrcv|lastack|rcv_wnd):/.test(w));
  const notMptcp = (rows: Row[]) => {
    const ports = new Set(Object.values(ns.sockets.mptcp ?? {}).map((e) => String(e.local[1])));
    return rows.filter((r) => ![r.local, r.peer].some((a) => ports.has(a.split(':').at(-1)!)));
  };

  it("-tnie: the tcp_info line says what ss says, word for word, in ss's order", () => {
    const { ours, theirs } = both(['-tnie', 'state', 'established']);
    const mine = byEndpoints(ours);
    let compared = 0;
    for (const t of notMptcp(theirs)) {
      const o = mine.get(`${t.local} ${t.peer}`);
      expect(o, `${t.local} ${t.peer}`).toBeDefined();
      expect(infoWords(o!).join(' '), `${t.local} ${t.peer}`).toBe(infoWords(t).join(' '));
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(4);
  });

  it('-tni (without -e or -o): no ts/sack/ecn/ecnseen/fastopen words, as ss prints them only with -e or -o', () => {
    const { ours, theirs } = both(['-tni', 'state', 'established']);
    const options = /^(ts|sack|ecn|ecnseen|fastopen)$/;
    for (const t of notMptcp(theirs)) expect(infoWords(t).filter((w) => options.test(w))).toEqual([]);
    for (const o of notMptcp(ours)) expect(infoWords(o).filter((w) => options.test(w)), `${o.local} ${o.peer}`).toEqual([]);
  });

  it('-tnm: skmem as ss prints it', () => {
    const { ours, theirs } = both(['-tnm', 'state', 'established']);
    const mine = byEndpoints(ours);
    for (const t of theirs) {
      const skmem = (r: Row) => r.details.join(' ').match(/skmem:\(\S+\)/)?.[0];
      expect(skmem(t)).toBeDefined();
      expect(skmem(mine.get(`${t.local} ${t.peer}`)!), `${t.local} ${t.peer}`).toBe(skmem(t));
    }
  });

  it('-tnmi: skmem and tcp_info on one line under the row, as ss prints them', () => {
    const { ours, theirs } = both(['-tnmi', 'state', 'established']);
    expect(theirs.every((r) => r.details.length === 1 && r.details[0]!.startsWith('skmem:('))).toBe(true);
    for (const o of ours) expect(o.details, `${o.local} ${o.peer}`).toHaveLength(1);
  });

  it('-tnmiO: skmem and tcp_info at the end of the row\'s own line, word for word as ss -O prints them', () => {
    const { ours, theirs } = both(['-tnmiO', 'state', 'established']);
    const mine = byEndpoints(ours);
    const words = (r: Row) => r.rest.filter((w) => !/^(lastsnd|lastrcv|lastack|rcv_wnd):/.test(w)).join(' ');
    let compared = 0;
    for (const t of notMptcp(theirs)) {
      const o = mine.get(`${t.local} ${t.peer}`);
      expect(o, `${t.local} ${t.peer}`).toBeDefined();
      expect(o!.details, `${t.local} ${t.peer}`).toEqual([]);
      expect(words(o!), `${t.local} ${t.peer}`).toBe(words(t));
      expect(words(o!)).toMatch(/^skmem:\(\S+\) \S+ wscale:/);
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(4);
  });

  it('-m for UNIX, PACKET and NETLINK sockets: skmem on the socket\'s own line, as ss prints it', () => {
    for (const flags of [['-xanm'], ['-0anm'], ['-anm', '-A', 'netlink']]) {
      // Rows by UNIX inode (sockdiag names peers and escapes names, where ss does not) or
      // by local address.
      const unix = flags[0] === '-xanm';
      const rows = (text: string) =>
        parseTable(text, { unix })
          .filter((r) => !ownDiagSocket(r))
          .map((r) => [r.netid, unix ? r.local.split(' ').at(-1) : r.local, ...r.rest, '|', ...r.details].join(' '))
          .sort();
      const ours = sockdiag(['-N', ns.name, ...flags]);
      expect(ours.status).toBe(0);
      const mine = rows(ours.stdout);
      expect(mine, flags.join(' ')).toEqual(rows(ss(ns.name, flags).stdout));
      expect(mine.length, flags.join(' ')).toBeGreaterThan(0);
      for (const r of mine) expect(r, flags.join(' ')).toMatch(/ skmem:\(r\d+,rb\d+,t\d+,tb\d+,f\d+,w\d+,o\d+,bl\d+,d\d+\) \|$/);
    }
  });

  it('--tos, --cgroup, --inet-sockopt: the words and the line ss prints for INET sockets', () => {
    // ss under `ip netns exec` sees no cgroup2 mount (the command remounts /sys) and prints the root
    // cgroup, id 1, as unreachable:1; sockdiag, run from outside, finds its path.
    const root = (w: string) => (w === 'cgroup:unreachable:1' ? 'cgroup:/' : w);
    const rows = (text: string) =>
      parseTable(text)
        .map((r) => [r.netid, r.state, r.local, r.peer, ...r.rest.map(root), '|', ...r.details.filter((d) => d.startsWith('inet-sockopt:'))].join(' '))
        .sort();
    for (const flags of [['-tuan', '--tos'], ['-tuan', '--cgroup'], ['-tuan', '--inet-sockopt'], ['-tuanO', '--tos', '--cgroup', '--inet-sockopt']]) {
      const ours = sockdiag(['-N', ns.name, ...flags]);
      expect(ours.status).toBe(0);
      expect(rows(ours.stdout), flags.join(' ')).toEqual(rows(ss(ns.name, flags).stdout));
    }
    const s = ns.sockets;
    const tos = parseTable(sockdiag(['-N', ns.name, '-tuan', '--tos']).stdout);
    expect(tos.find((r) => r.local === endpoint(s.tcp.client.local))?.rest.join(' ')).toMatch(/^tos:0x10 class_id:0x\w+$/);
    if (s.udp.bound6) expect(tos.find((r) => r.local === endpoint(s.udp.bound6!.local))?.rest.join(' ')).toMatch(/(^| )tclass:0x20( |$)/);
    const opts = parseTable(sockdiag(['-N', ns.name, '-uan', '--inet-sockopt']).stdout);
    expect(opts.find((r) => r.local === endpoint(s.udp.connected.local))?.details).toEqual(['inet-sockopt: ( recverr mc_loop mc_all)']);
  });

  it('-e and -b for PACKET and NETLINK sockets: the words and lines ss prints (flags, fanout, ring, BPF program; sk, cb, groups)', () => {
    for (const flags of [['-0ane'], ['-0aneO'], ['-0anem'], ['-0anb'], ['-0anebmO'], ['-ane', '-A', 'netlink']]) {
      const rows = (text: string) =>
        parseTable(text)
          .filter((r) => !ownDiagSocket(r))
          .map((r) => [r.netid, r.local, ...r.rest, '|', ...r.details].join(' '))
          .sort();
      const ours = sockdiag(['-N', ns.name, ...flags]);
      expect(ours.status).toBe(0);
      expect(rows(ours.stdout), flags.join(' ')).toEqual(rows(ss(ns.name, flags).stdout));
    }
    // The socket cli-sockets.py set up for this shows each kind of line.
    const packet = parseTable(sockdiag(['-N', ns.name, '-0ane']).stdout).find((r) => r.details.some((d) => d.startsWith('fanout(')));
    expect(packet?.details).toEqual([
      'ver:0 cpy_thresh:0 flags( running auxdata )',
      'ring_rx(blk_size:4096,blk_nr:4,frm_size:2048,frm_nr:8,tmo:0,features:0x0)',
      'fanout(id:7,type:roll)',
    ]);
    const bpf = parseTable(sockdiag(['-N', ns.name, '-0anb']).stdout).find((r) => r.details.length > 0);
    expect(bpf?.details).toEqual(['bpf filter (2):  0x28 0 0 12, 0x06 0 0 262144,']);
    const netlink = parseTable(sockdiag(['-N', ns.name, '-ane', '-A', 'netlink']).stdout);
    expect(netlink.map((r) => r.rest.join(' '))).toContain('sk=0 cb=0 groups=0x00000005');
  });

  it('-xae: the words ss -e prints for UNIX sockets (shutdown, file inode and device, pending peers), first and in order', () => {
    const { ours, theirs } = both(['-xae'], { unix: true });
    const byInode = new Map(ours.map((r) => [r.local.split(' ')[1], r]));
    // ss renders the device with glibc's major()/minor() of the kernel's dev_t (dev:0/65024 for
    // 254:0); either rendering will do here, as long as it is a device.
    const words = (r: Row) => r.rest.map((w) => (/^dev:\d+\/\d+$/.test(w) ? 'dev:M/N' : w));
    let compared = 0;
    for (const t of theirs) {
      const inode = t.local.split(' ')[1]!;
      const o = byInode.get(inode);
      expect(o, `${t.netid} ${t.local}`).toBeDefined();
      // sockdiag may add words of its own (sk:) after ss's.
      expect(words(o!).slice(0, t.rest.length).join(' '), `${t.netid} ${t.local}`).toBe(words(t).join(' '));
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(7);
  });

  it('-xam: skmem for UNIX sockets as ss prints it (the dump asks for the memory only with -m)', () => {
    const { ours, theirs } = both(['-xam'], { unix: true });
    const byInode = new Map(ours.map((r) => [r.local.split(' ')[1], r]));
    const skmem = (r: Row) => [...r.rest, ...r.details].join(' ').match(/skmem:\(\S+\)/)?.[0];
    let compared = 0;
    for (const t of theirs) {
      const o = byInode.get(t.local.split(' ')[1]!);
      expect(o, `${t.netid} ${t.local}`).toBeDefined();
      expect(skmem(t), `${t.netid} ${t.local}`).toBeDefined();
      expect(skmem(o!), `${t.netid} ${t.local}`).toBe(skmem(t));
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(7);
  });

  /** Runs both tools with `flags`; each row's words after the peer must be ss's, word for word. Returns ours. */
  function sameUsers(flags: string[], unix: boolean): Row[] {
    const { ours, theirs } = both(flags, { unix });
    // UNIX sockets by inode (ss prints names raw; the escaped name is tested below).
    const key = (r: Row) => (unix ? `${r.local.split(' ')[1]} ${r.peer.split(' ')[1]}` : `${r.local} ${r.peer}`);
    const mine = new Map(ours.map((r) => [key(r), r]));
    for (const t of theirs) expect(mine.get(key(t))?.rest.join(' '), `${flags[0]} ${key(t)}`).toBe(t.rest.join(' '));
    return ours;
  }

  it('-tanp, -uanp, -xap: the processes holding each socket (pid and fd of the child)', () => {
    const s = ns.sockets;
    const users = (fd: number) => `users:(("${commOf(s.pid)}",pid=${s.pid},fd=${fd}))`;
    for (const flags of [['-tanp'], ['-uanp'], ['-xap']]) {
      const ours = sameUsers(flags, flags[0] === '-xap');
      // And the child's sockets carry its pid and its fds.
      const rowOf = (inode: number) => ours.find((r) => r.local.endsWith(` ${inode}`));
      if (flags[0] === '-tanp') {
        const listener = ours.find((r) => r.local === endpoint(s.tcp.listener.local) && r.state === 'LISTEN');
        expect(listener?.rest.join(' ')).toBe(users(s.tcp.listener.fd));
        const client = ours.find((r) => r.local === endpoint(s.tcp.client.local));
        expect(client?.rest.join(' ')).toBe(users(s.tcp.client.fd));
      } else if (flags[0] === '-uanp') {
        expect(ours.find((r) => r.local === endpoint(s.udp.bound.local))?.rest.join(' ')).toBe(users(s.udp.bound.fd));
      } else {
        expect(rowOf(s.unix.dgram.inode)?.rest.join(' ')).toBe(users(s.unix.dgram.fd));
        expect(rowOf(s.unix.pairB.inode)?.rest.join(' ')).toBe(users(s.unix.pairB.fd));
      }
    }
  });

  it('-tanT, -xaT: one entry per thread, with its id and its own name, in the order ss prints them', () => {
    const s = ns.sockets;
    sameUsers(['-tanT'], false);
    sameUsers(['-xaT'], true);
    const listener = parseTable(sockdiag(['-N', ns.name, '-tlnT']).stdout).find((r) => r.local === endpoint(s.tcp.listener.local));
    const fd = s.tcp.listener.fd;
    expect(listener?.rest.join(' ')).toBe(
      `users:(("${s.thread.name}",pid=${s.pid},tid=${s.thread.tid},fd=${fd}),("${commOf(s.pid)}",pid=${s.pid},tid=${s.pid},fd=${fd}))`,
    );
  });
});

describe('the holders of one socket', () => {
  it('-xap lists them in the order ss does: the kernel\'s order of /proc, last found first (fd 10 before fd 9)', async () => {
    // One socket behind three descriptors of one process: its own, 9 and 10. The kernel
    // lists /proc/PID/fd in numeric order; sorted as text, "10" would come before "9".
    const code = [
      'import os, socket, sys',
      's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
      `s.bind(b"\\0sockdiag-order-${process.pid}")`,
      'os.dup2(s.fileno(), 9)',
      'os.dup2(s.fileno(), 10)',
      'print(s.fileno(), os.fstat(s.fileno()).st_ino, flush=True)',
      'sys.stdin.read()',
    ].join('\n');
    const child = spawn('ip', ['netns', 'exec', ns.name, 'python3', '-c', code], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout! }).once('line', resolve);
        child.once('exit', (c) => reject(new Error(`python3 exited (${c}) before binding its socket`)));
      });
      const [fd, inode] = line.split(' ').map(Number) as [number, number];
      const { ours, theirs } = both(['-xap'], { unix: true });
      const holders = (rows: Row[]) => rows.find((r) => r.local.endsWith(` ${inode}`))?.rest.join(' ');
      // ip netns exec runs python3 in its own process (exec), so the pid is the child's.
      const users = [10, 9, fd].map((n) => `("${commOf(child.pid!)}",pid=${child.pid},fd=${n})`).join(',');
      expect(holders(theirs)).toBe(`users:(${users})`);
      expect(holders(ours)).toBe(holders(theirs));
    } finally {
      child.kill();
    }
  });
});

describe('names that are not plain text', () => {
  it('-xa prints control characters and non-UTF-8 bytes of a UNIX name escaped', () => {
    const o = sockdiag(['-N', ns.name, '-xa']);
    expect(o.status).toBe(0);
    expect(o.raw.includes(0x1b)).toBe(false);
    expect(o.raw.includes(0xff)).toBe(false);
    const inode = ns.sockets.unix.escaped.inode;
    const row = parseTable(o.stdout).find((r) => r.local.endsWith(` ${inode}`));
    expect(row?.local).toBe(`@sockdiag-\\x1b[31m-\\xff-end ${inode}`);
    // ss prints the same name raw: escaping its bytes gives ours.
    const theirs = parseTable(ss(ns.name, ['-xa']).stdout).find((r) => r.local.endsWith(` ${inode}`));
    expect(theirs).toBeDefined();
    expect(escapeBytes(theirs!.local)).toBe(row!.local);
  });
});

/** The command name of a process, as ss and sockdiag read it. */
function commOf(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  return stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
}

/** Control and high bytes (of a latin1-decoded string) as `\xNN`. */
function escapeBytes(s: string): string {
  return s.replace(/[\x00-\x1f\x7f-\xff]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
