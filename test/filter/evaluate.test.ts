import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIp } from '../../query/filter/address.js';
import { dport, not, sport, src } from '../../query/filter/ast.js';
import { createMatcher, matches, type FilterSocket, type MatchOptions } from '../../query/filter/evaluate.js';
import { parseFilter } from '../../query/filter/parse.js';
import { services } from './helpers.js';

const v4: FilterSocket = { family: 'inet', src: '10.0.0.5', dst: '192.168.1.10', sport: 40000, dport: 443, ifindex: 0 };
const v6: FilterSocket = { family: 'inet6', src: '2001:db8::5', dst: 'fe80::1%eth0', sport: 22, dport: 51000, ifindex: 2 };
const mapped: FilterSocket = { family: 'inet6', src: '::ffff:10.0.0.5', dst: '::ffff:192.168.1.10', sport: 8080, dport: 80, ifindex: 0 };
const unix: FilterSocket = { family: 'unix', src: '/run/x.sock', dst: '', sport: 0, dport: 0, ifindex: 0 };

const sockets = {
  v4, v6, mapped, unix,
  'v4 mark 0x12': { ...v4, mark: 0x12 },
  'v4 mark 0x3': { ...v4, mark: 0x3 },
  'v4 mark 0xffffffff': { ...v4, mark: 0xffffffff },
  'v4 cgroup 77': { ...v4, cgroupId: 77n },
  'unix client': { family: 'unix', src: '', dst: '/srv/app.sock', sport: 7, dport: 9, ifindex: 0 },
  'unix autobind': { family: 'unix', src: '@0a1f9', dst: '', sport: 8, dport: 0, ifindex: 0 },
} satisfies Record<string, FilterSocket>;

const options: MatchOptions = {
  ifindex: (name) => ({ lo: 1, eth0: 2 })[name],
  cgroupId: (path) => ({ '/system.slice': 77n })[path],
  ephemeralPorts: [32768, 60999],
};

function test(filter: string, socket: FilterSocket): boolean {
  const node = parseFilter(filter, { services });
  if (!node) throw new Error('empty filter');
  return matches(node, socket, options);
}

/** [filter, socket, expected] */
const cases: Array<[string, keyof typeof sockets, boolean]> = [
  // port comparisons and ranges
  ['sport = :40000', 'v4', true],
  ['sport != :40000', 'v4', false],
  ['dport < :443', 'v4', false],
  ['dport <= :443', 'v4', true],
  ['dport > :442', 'v4', true],
  ['dport >= :444', 'v4', false],
  ['dport >= :400 and dport <= :500', 'v4', true],
  ['dport > :443 or dport < :443', 'v4', false],
  ['sport = *', 'v4', true],
  ['sport != *', 'v4', false],
  // IPv4 prefixes
  ['src 10.0.0.5', 'v4', true],
  ['src 10.0.0.0/8', 'v4', true],
  ['src 10.0.0.4/30', 'v4', true],
  ['src 10.0.0.8/30', 'v4', false],
  ['src 11.0.0.0/8', 'v4', false],
  ['src 0.0.0.0/0', 'v4', true],
  ['dst 192.168.0.0/16:443', 'v4', true],
  ['dst 192.168.0.0/16:80', 'v4', false],
  ['src *:40000', 'v4', true],
  ['src :40001', 'v4', false],
  // an IPv4 condition matches v4-mapped addresses of IPv6 sockets ...
  ['src 10.0.0.0/8', 'mapped', true],
  ['src 10.0.0.5:8080', 'mapped', true],
  ['dst 192.168.1.0/24', 'mapped', true],
  ['src 0.0.0.0/0', 'mapped', true],
  // ... but not other IPv6 addresses, even with a zero-length prefix
  ['src 0.0.0.0/0', 'v6', false],
  ['src 10.0.0.0/8', 'v6', false],
  // a v4-mapped (IPv6) condition selects only v4-mapped sockets
  ['src [::ffff:10.0.0.5]', 'mapped', true],
  ['src [::ffff:10.0.0.0/104]', 'mapped', true],
  ['src [::ffff:10.0.0.5]', 'v4', false],
  // IPv6 conditions never match IPv4 sockets
  ['src [::/0]', 'v4', false],
  ['src [::/0]', 'v6', true],
  ['src [2001:db8::/32]', 'v6', true],
  ['src [2001:db9::/32]', 'v6', false],
  ['src [2001:db8::/31]', 'v6', true],
  ['dst [fe80::/10]', 'v6', true],
  ['dst [fe80::1]:51000', 'v6', true],
  // wildcards match any family; addresses never match non-inet sockets
  ['src *', 'unix', true],
  ['src 0.0.0.0/0', 'unix', false],
  ['sport = :0', 'unix', true],
  // UNIX names: fnmatch(3) patterns, `*` crossing '/', against the name or the peer's name
  ['src unix:/run/*', 'unix', true],
  ['src unix:/*.sock', 'unix', true],
  ['src unix:/run/?.sock', 'unix', true],
  ['src unix:/run/[a-w].sock', 'unix', false],
  ['src unix:/run', 'unix', false],
  ['dst unix:/run/*', 'unix', false],
  ['dst unix:', 'unix', true],
  ['dst unix:/srv/*', 'unix client', true],
  ['src unix:', 'unix client', true],
  ['not src unix:/run/*', 'unix', false],
  ['src unix:*', 'v4', false],
  ['not src unix:*', 'v4', true],
  ['src unix:* or sport = :40000', 'v4', true],
  // a UNIX socket's ports are its inode and its peer's, as ss compares them
  ['src *:7 and dport = :9', 'unix client', true],
  // autobound UNIX sockets: unnamed, or an abstract name of five hex digits
  ['autobound', 'unix', false],
  ['autobound', 'unix client', true],
  ['autobound', 'unix autobind', true],
  // nesting
  ['not ( sport = :22 or dport = :443 )', 'v4', false],
  ['not ( sport = :22 or dport = :443 )', 'mapped', true],
  ['( src 10.0.0.0/8 or src [2001:db8::/32] ) and not dport = :22', 'v6', true],
  ['not not src 10.0.0.0/8', 'v4', true],
  ['! ( ! sport = :40000 and ! sport = :1 )', 'v4', true],
  // ss's equal precedence: (true or false) and false
  ['sport = :40000 or sport = :1 and dport = :80', 'v4', false],
  ['sport = :40000 or ( sport = :1 and dport = :80 )', 'v4', true],
  // devices, marks, cgroups, autobound
  ['dev eth0', 'v6', true],
  ['dev 2', 'v6', true],
  ['dev lo', 'v6', false],
  ['dev 0', 'v4', true],
  ['dev nosuchdev', 'v4', false],
  ['dev != nosuchdev', 'v4', true],
  ['fwmark 0x12', 'v4 mark 0x12', true],
  ['fwmark 0x2/0xf', 'v4 mark 0x12', true],
  ['fwmark 0x3/0x1', 'v4 mark 0x3', false],
  ['fwmark 0x80000000/0x80000000', 'v4 mark 0xffffffff', true],
  ['fwmark 0x12', 'v4', false],
  ['not fwmark 0x12', 'v4', true],
  ['cgroup 77', 'v4 cgroup 77', true],
  ['cgroup /system.slice', 'v4 cgroup 77', true],
  ['cgroup /user.slice', 'v4 cgroup 77', false],
  ['cgroup 77', 'v4', false],
  ['autobound', 'v4', true],
  ['autobound', 'v6', false],
];

describe('matches', () => {
  it.each(cases)('%s on %s', (filter, socket, expected) => {
    expect(test(filter, sockets[socket])).toBe(expected);
  });

  it('looks each name up once per matcher', () => {
    const looked: string[] = [];
    const match = createMatcher(parseFilter('dev eth0 or dev lo') ?? sport('=', 0), {
      ifindex: (name) => (looked.push(name), name === 'eth0' ? 2 : 1),
    });
    expect([v4, v6, mapped, v6].map(match)).toStrictEqual([false, true, false, true]);
    expect(looked).toStrictEqual(['eth0', 'lo']);
  });

  it('obeys boolean laws for random port filters', () => {
    const leaf = fc.tuple(fc.boolean(), fc.constantFrom('=', '!=', '<', '<=', '>', '>=' as const), fc.integer({ min: 0, max: 65535 }))
      .map(([local, op, port]) => (local ? sport(op, port) : dport(op, port)));
    const socket = fc.record({ sport: fc.integer({ min: 0, max: 65535 }), dport: fc.integer({ min: 0, max: 65535 }) })
      .map((ports): FilterSocket => ({ ...v4, ...ports }));
    fc.assert(fc.property(leaf, socket, (node, s) => {
      const value = node.side === 'src' ? s.sport : s.dport;
      const expected = { '=': value === node.port, '!=': value !== node.port, '<': value < node.port,
        '<=': value <= node.port, '>': value > node.port, '>=': value >= node.port }[node.op];
      expect(matches(node, s)).toBe(expected);
      expect(matches(not(node), s)).toBe(!expected);
    }));
  });

  it('compares prefixes like the kernel bitstring_match() on 32-bit words', () => {
    /** The kernel's algorithm, on big-endian 32-bit words. */
    const kernelMatch = (a: number[], b: number[], bits: number): boolean => {
      const word = (bytes: number[], i: number): number =>
        (((bytes[4 * i] ?? 0) << 24) | ((bytes[4 * i + 1] ?? 0) << 16) | ((bytes[4 * i + 2] ?? 0) << 8) | (bytes[4 * i + 3] ?? 0)) >>> 0;
      const words = bits >> 5;
      for (let i = 0; i < words; i++) if (word(a, i) !== word(b, i)) return false;
      const rest = bits & 0x1f;
      if (rest === 0) return true;
      const mask = (0xffffffff << (32 - rest)) >>> 0;
      return ((word(a, words) ^ word(b, words)) & mask) === 0;
    };
    const bytes16 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => [...b]);
    fc.assert(fc.property(bytes16, bytes16, fc.integer({ min: 0, max: 128 }), fc.boolean(), (a, b, bits, share) => {
      const cond = share ? [...a.slice(0, 8), ...b.slice(8)] : b;
      const socket: FilterSocket = { ...v6, src: formatIp(a) };
      const node = src(`[${formatIp(cond)}/${bits}]`);
      expect(matches(node, socket)).toBe(kernelMatch(a, cond, bits));
    }), { numRuns: 2000 });
  });
});
