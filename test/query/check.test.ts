/**
 * Options the types do not allow, as JavaScript callers can pass them: each gets a
 * TypeError or RangeError naming the option (when iteration starts, for dumps), before
 * any request goes out, instead of a dump that quietly matches nothing (a state name
 * misspelled used to give no sockets; an unknown extension was dropped) or an error
 * from deep inside (a watch of SCTP events failed in setsockopt).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inetDiagExtMask } from '../../generated/inet_diag.js';
import { udiagShowMask } from '../../generated/unix_diag.js';
import { and, createMatcher, not, or, parseFilter, SockDiag, sport, src, unixSrc, watch } from '../../query/index.js';

/** What the types forbid: passed through `unknown`, as plain JavaScript would pass it. */
const loose = <T>(value: unknown) => value as T;

let diag: SockDiag;
beforeAll(() => {
  diag = SockDiag.open();
});
afterAll(() => diag?.close());

const inetCases: [string, unknown, RegExp][] = [
  ['a misspelled state', { states: ['establised'] }, /^states: unknown value "establised" \(known: established, syn-sent, /],
  ['states as one string', { states: 'established' }, /^states: an array of names, not "established"$/],
  ['an unknown extension', { ext: ['tcpinfo'] }, /^ext: unknown value "tcpinfo" \(known: meminfo, info, /],
  ['an unknown family', { family: 'ipx' }, /^family: unknown value "ipx" \(known: inet, inet6, all\)$/],
  ['an unknown protocol', { protocol: 'dccp' }, /^protocol: unknown value "dccp"/],
  ['a negative port', { sport: -1 }, /^sport: -1 is outside 0 to 65535$/],
  ['a port too large', { dport: 65536 }, /^dport: 65536 is outside 0 to 65535$/],
  ['a fractional port', { sport: 22.5 }, /^sport: an integer, not 22.5$/],
  ['a port as text', { sport: '22' }, /^sport: an integer, not "22"$/],
  ['a filter as text', { filter: 'sport = :22' }, /^filter: a filter node .* not "sport = :22": parse the text with parseFilter\(\) first$/],
  ['a filter of another shape', { filter: { op: '=' } }, /^filter: a filter node .* not \{"op":"="\}$/],
  ['bytecode that is not bytes', { bytecode: [1, 2, 3] }, /^bytecode: a Uint8Array, not \[1,2,3\]$/],
  ['negative retries', { retries: -1 }, /^retries: -1 is outside 0 to /],
];

describe('INET dumps refuse options the types do not allow', () => {
  for (const [what, q, message] of inetCases) {
    it(what, async () => {
      expect(() => diag.inet(loose(q)).next()).toThrow(message);
      await expect(diag.inetAsync(loose(q)).next()).rejects.toThrow(message);
    });
  }

  it('range errors are RangeErrors, wrong types TypeErrors', () => {
    expect(() => diag.inet(loose({ sport: 70000 })).next()).toThrow(RangeError);
    expect(() => diag.inet(loose({ sport: 'x' })).next()).toThrow(TypeError);
  });

  it('destroy() checks its query before it opens anything', () => {
    expect(() => diag.destroy(loose({ states: ['nope'], all: true })).next()).toThrow(/^states: unknown value "nope"/);
  });

  it('the socket is still usable after a refused query', () => {
    expect(() => diag.inet(loose({ states: ['nope'] })).next()).toThrow(TypeError);
    expect(() => [...diag.inet({ filter: parseFilter('sport = :1')! })]).not.toThrow();
  });
});

describe('lookups, UNIX dumps and other families refuse them too', () => {
  it('inetLookup without a port, with a bad family, an address that is no text or a cookie that is no bigint', () => {
    const base = { family: 'inet', src: '127.0.0.1', sport: 1, dst: '127.0.0.1', dport: 2 };
    expect(() => diag.inetLookup(loose({ ...base, sport: undefined }))).toThrow(/^sport: an integer, not undefined$/);
    expect(() => diag.inetLookup(loose({ ...base, family: 'all' }))).toThrow(/^family: unknown value "all" \(known: inet, inet6\)$/);
    expect(() => diag.inetLookup(loose({ ...base, src: 0x7f000001 }))).toThrow(/^src: an address as text, not 2130706433$/);
    expect(() => diag.inetLookup(loose({ ...base, cookie: 5 }))).toThrow(/^cookie: a bigint, not 5$/);
    expect(diag.inetLookup(loose(base))).toBeUndefined();
  });

  it('unix() with an unknown type, show or state; unixLookup with a bad inode', () => {
    expect(() => diag.unix(loose({ type: 'raw' })).next()).toThrow(/^type: unknown value "raw" \(known: stream, dgram, seqpacket\)$/);
    expect(() => diag.unix(loose({ show: ['names'] })).next()).toThrow(/^show: unknown value "names" \(known: name, /);
    expect(() => diag.unix(loose({ states: ['open'] })).next()).toThrow(/^states: unknown value "open"/);
    expect(() => diag.unixLookup(loose(-1))).toThrow(/^inode: -1 is outside 0 to 4294967295$/);
  });

  it('sockets() with a family it does not know', () => {
    expect(() => diag.sockets(loose<'netlink'>('bluetooth')).next()).toThrow(/^family: unknown value "bluetooth" \(known: netlink, packet, xdp, vsock, smc, tipc\)$/);
  });
});

describe('opening a socket, entering a namespace and watching refuse them too', () => {
  it('SockDiag.open with a receive buffer that is no positive int, or readerThread that is no boolean', () => {
    expect(() => SockDiag.open(loose({ rcvbuf: -1 }))).toThrow(/^rcvbuf: -1 is outside 1 to 2147483647$/);
    expect(() => SockDiag.open(loose({ rcvbuf: '1M' }))).toThrow(/^rcvbuf: an integer, not "1M"$/);
    expect(() => SockDiag.open(loose({ readerThread: 'no' }))).toThrow(/^readerThread: true or false, not "no"$/);
  });

  it('a namespace given as a bare name, or as an object without name, path or pid', () => {
    expect(() => SockDiag.open(loose({ netns: 'blue' }))).toThrow(/^not a network namespace: "blue" \(give \{ name \}, \{ path \} or \{ pid \}\)$/);
    expect(() => SockDiag.open(loose({ netns: {} }))).toThrow(/^not a network namespace: \[object Object\]/);
  });

  it('watch() with a protocol or family it has no events for, a buffer that is no int, an onOverflow that is no function', async () => {
    await expect(watch(loose({ protocols: ['sctp'] })).next()).rejects.toThrow(/^protocols: unknown value "sctp" \(known: tcp, udp\)$/);
    await expect(watch(loose({ families: 'inet' })).next()).rejects.toThrow(/^families: an array of names, not "inet"$/);
    await expect(watch(loose({ rcvbuf: 'big' })).next()).rejects.toThrow(/^rcvbuf: an integer, not "big"$/);
    await expect(watch(loose({ onOverflow: 5 })).next()).rejects.toThrow(/^onOverflow: a function, not 5$/);
  });
});

describe('filter ASTs from elsewhere than parseFilter() and the builders', () => {
  const bad: [string, unknown, RegExp][] = [
    ['an and() of nothing', and(loose(undefined), loose(undefined)), /^filter\.args\[1\]: a filter node .* not undefined$/],
    ['an or() with text in it', or(sport('=', 1), loose('dport = :2')), /^filter\.args\[1\]: a filter node .* not "dport = :2": parse the text/],
    ['an and with one argument', { kind: 'and', args: [sport('=', 1)] }, /^filter\.args: two or more filter nodes/],
    ['a port out of range deep inside', not(or(sport('=', 1), { kind: 'port', side: 'dst', op: '=', port: 70000 })), /^filter\.arg\.args\[1\]\.port: 70000 is outside 0 to 65535$/],
    ['an operator no parser makes', { kind: 'port', side: 'src', op: '==', port: 1 }, /^filter\.op: unknown value "==" \(known: =, !=, <, <=, >, >=\)$/],
    ['a prefix with 5 bytes for IPv4', { kind: 'host', side: 'src', prefix: { family: 'inet', bytes: [1, 2, 3, 4, 5], prefixLength: 8 }, port: null }, /^filter\.prefix\.bytes: 4 numbers/],
    ['a prefix longer than its family', { kind: 'host', side: 'dst', prefix: { family: 'inet', bytes: [10, 0, 0, 0], prefixLength: 33 }, port: null }, /^filter\.prefix\.prefixLength: 33 is outside 0 to 32$/],
    ['an unknown kind', { kind: 'state', state: 'established' }, /^filter\.kind: unknown filter node kind "state"$/],
    ['a cgroup id as a number', { kind: 'cgroup', cgroup: 5 }, /^filter\.cgroup: a path or a bigint id, not 5$/],
  ];
  for (const [what, filter, message] of bad) {
    it(what, () => {
      expect(() => diag.inet(loose({ filter })).next()).toThrow(message);
      expect(() => createMatcher(loose(filter))).toThrow(message);
    });
  }

  it('every AST parseFilter builds passes, deep ones included', () => {
    for (const text of ['sport = :22', 'src 10.0.0.0/8 and not dst [::1]:443', 'dev lo or fwmark 0x10/0xff or cgroup / or autobound', `${'not '.repeat(999)}sport = :1`]) {
      expect(() => createMatcher(parseFilter(text)!)).not.toThrow();
    }
  });

  it('builders refuse arguments of the wrong type', () => {
    expect(() => sport('=', loose('22'))).toThrow(/^a port is a number, not string$/);
    expect(() => src(loose(42))).toThrow(/^src\(\) takes an address as text, not number$/);
    expect(() => unixSrc(loose(5))).toThrow(/^a UNIX name pattern is text, not number$/);
    expect(() => parseFilter(loose(42))).toThrow(/^parseFilter\(\) takes filter text, or its words as an array of strings, not number$/);
  });
});

describe('the generated flag masks', () => {
  it('refuse a name the schema does not know, naming the flag set and its names', () => {
    expect(() => inetDiagExtMask(loose(['info', 'nope']))).toThrow(/^unknown inet-diag-ext flag "nope" \(known: meminfo, info, /);
    expect(() => udiagShowMask(loose(['x']))).toThrow(TypeError);
    expect(inetDiagExtMask(['info', 'cong'])).toBe((1 << 1) | (1 << 3));
  });
});
