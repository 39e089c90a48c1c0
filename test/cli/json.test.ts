/**
 * `--json` and `--ndjson` from the built command, on a private namespace with known
 * sockets: each document (each line) validates against cli/output.schema.json, the
 * cookies are ss's `sk:` in decimal, and no number in the output exceeds 2^53.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpoint, field, openNamespace, parseTable, sockdiag, ss, type Namespace } from '../helpers/cli-netns.js';
import { errorsText, validateDocument, validateSocket } from '../helpers/cli-schema.js';

type Json = Record<string, unknown> & { netid: string; family: string; cookie: string; inode: number };

let ns: Namespace;
/** `-tuxaiemp --json`: every field the flags can ask for, and users. */
let doc: Json[];
let ndjsonLines: string[];

beforeAll(async () => {
  ns = await openNamespace();
  const r = sockdiag(['-N', ns.name, '-tuxaiemp', '--json']);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  doc = JSON.parse(r.stdout) as Json[];
  const n = sockdiag(['-N', ns.name, '-tuxaiemp', '--ndjson']);
  expect(n.stderr).toBe('');
  expect(n.status).toBe(0);
  expect(n.stdout.endsWith('\n')).toBe(true);
  ndjsonLines = n.stdout.slice(0, -1).split('\n');
});
afterAll(async () => {
  await ns?.close();
});

const inetKey = (s: Json) => {
  const port = (p: unknown) => (p === 0 ? '*' : String(p));
  // As ss prints them: IPv6 in brackets, the wildcard of a dual-stack socket as *.
  const addr = (a: unknown) => (s.family !== 'inet6' ? String(a) : a === '::' && !s.skv6only ? '*' : `[${a}]`);
  return `${s.netid} ${addr(s.src)}:${port(s.sport)} ${addr(s.dst)}:${port(s.dport)}`;
};

/** Every number in a parsed JSON value, with its path. */
function numbers(value: unknown, path = '$'): [string, number][] {
  if (typeof value === 'number') return [[path, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => numbers(v, `${path}[${i}]`));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => numbers(v, `${path}.${k}`));
  return [];
}

describe('--json', () => {
  it('-T: a users entry per thread, with tid, and the document still validates', () => {
    const r = sockdiag(['-N', ns.name, '-tlT', '--json']);
    expect(r.stderr).toBe('');
    const threads = JSON.parse(r.stdout) as Json[];
    expect(validateDocument(threads), errorsText(validateDocument.errors)).toBe(true);
    const s = ns.sockets;
    const listener = threads.find((x) => x.sport === s.tcp.listener.local[1]);
    expect(listener?.users).toEqual([
      { name: s.thread.name, pid: s.pid, tid: s.thread.tid, fd: s.tcp.listener.fd },
      { name: expect.any(String), pid: s.pid, tid: s.pid, fd: s.tcp.listener.fd },
    ]);
  });

  it('is one document that validates against cli/output.schema.json', () => {
    const ok = validateDocument(doc);
    expect(ok, errorsText(validateDocument.errors)).toBe(true);
    // Every table asked for is there.
    expect(new Set(doc.map((s) => s.netid))).toEqual(new Set(['tcp', 'udp', 'u_str', 'u_dgr', 'u_seq']));
  });

  it("holds the child's sockets with what the flags asked for (info, meminfo, skmeminfo, sockopt, users)", () => {
    const s = ns.sockets;
    const server = doc.find((x) => x.netid === 'tcp' && x.inode === s.tcp.server.inode);
    expect(server).toMatchObject({ family: 'inet', state: 'established', rqueue: 1000, users: [{ pid: s.pid, fd: s.tcp.server.fd }] });
    expect(server).toHaveProperty('info.sndCwnd');
    expect(server).toHaveProperty('info.rtt');
    expect(server).toHaveProperty('cong');
    expect(server).toHaveProperty('meminfo.rmem');
    expect(server!.skmeminfo).toHaveLength(9);
    expect(server).toHaveProperty('sockopt.isIcsk', 1);
    const udp = doc.find((x) => x.netid === 'udp' && x.inode === s.udp.bound.inode);
    expect(udp).toMatchObject({ state: 'close', src: '127.0.0.1', sport: s.udp.bound.local[1], users: [{ pid: s.pid, fd: s.udp.bound.fd }] });
    const unix = doc.find((x) => x.inode === s.unix.server.inode);
    expect(unix).toMatchObject({ netid: 'u_str', family: 'unix', type: 'stream', path: s.unix.server.name, peer: s.unix.client.inode });
    expect(unix).toHaveProperty('rqlen.udiagRqueue', 200);
  });

  it('cookies are the decimal form of the sk: that ss -e prints', () => {
    const byKey = new Map(doc.filter((x) => x.family !== 'unix').map((x) => [inetKey(x), x]));
    let compared = 0;
    for (const [netid, flags] of [['tcp', '-tanie'], ['udp', '-uanie']] as const) {
      for (const r of parseTable(ss(ns.name, [flags]).stdout)) {
        const sk = field(r.rest, 'sk');
        expect(sk, `${r.local} ${r.peer}`).toBeDefined();
        const ours = byKey.get(`${netid} ${r.local} ${r.peer}`);
        expect(ours, `${netid} ${r.local} ${r.peer}`).toBeDefined();
        expect(ours!.cookie).toBe(BigInt(`0x${sk}`).toString());
        compared++;
      }
    }
    // ss -e shows no cookie for UNIX sockets; TCP and UDP ones it does.
    expect(compared).toBeGreaterThanOrEqual(12);
  });

  it('has no number above 2^53: 64-bit values are decimal strings', () => {
    for (const s of doc) for (const [path, n] of numbers(s)) expect(Number.isSafeInteger(n), `${path} = ${n}`).toBe(true);
    // A listener's pacing rate is ~0 (u64): it must come out exact, as a string.
    const listener = doc.find((x) => x.netid === 'tcp' && x.inode === ns.sockets.tcp.listener.inode) as { info?: { pacingRate?: unknown } } | undefined;
    expect(listener?.info?.pacingRate).toBe('18446744073709551615');
    for (const s of doc) expect(typeof s.cookie).toBe('string');
  });

  it('keeps a UNIX name with control characters escaped in path, and its bytes as hex in name', () => {
    const e = ns.sockets.unix.escaped;
    const s = doc.find((x) => x.inode === e.inode);
    expect(s).toMatchObject({ path: '@sockdiag-\\x1b[31m-\\xff-end', name: e.name });
  });

  it('prints an empty array when nothing matches', () => {
    const r = sockdiag(['-N', ns.name, '-t', 'state', 'closing', '--json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
    expect(validateDocument([])).toBe(true);
  });

  it('-s --json is a summary that validates against the schema', () => {
    const r = sockdiag(['-N', ns.name, '-tuxa', '-s', '--json']);
    expect(r.status).toBe(0);
    const summary = JSON.parse(r.stdout) as { total: number; tables: Record<string, Record<string, number>> };
    expect(validateDocument(summary), errorsText(validateDocument.errors)).toBe(true);
    expect(summary.total).toBe(doc.length);
    expect(summary.tables.tcp?.listen).toBeGreaterThanOrEqual(2);
  });
});

describe('--ndjson', () => {
  it('prints one socket per line; each parses and validates against #/$defs/Socket', () => {
    expect(ndjsonLines.length).toBeGreaterThanOrEqual(20);
    for (const line of ndjsonLines) {
      const s = JSON.parse(line) as unknown;
      expect(validateSocket(s), `${line.slice(0, 200)}\n${errorsText(validateSocket.errors)}`).toBe(true);
    }
  });

  it('lists the same sockets as --json', () => {
    const cookies = (list: Json[]) => new Set(list.map((s) => `${s.netid} ${s.cookie}`));
    const fromLines = ndjsonLines.map((l) => JSON.parse(l) as Json);
    // TIME-WAIT sockets come and go between two runs; the child's sockets do not.
    const stable = (list: Json[]) => list.filter((s) => s.state !== 'time-wait');
    expect(cookies(stable(fromLines))).toEqual(cookies(stable(doc)));
    expect(fromLines.some((s) => s.inode === ns.sockets.unix.dgram.inode)).toBe(true);
    expect(fromLines.some((s) => inetKey(s) === `tcp ${endpoint(ns.sockets.tcp.listener.local)} 0.0.0.0:*`)).toBe(true);
  });
});
