import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  and, autobound, cgroup, dev, dport, mark, not, or, sport, unixDst, unixSrc, type FilterNode,
} from '../../query/filter/ast.js';
import { planFilter } from '../../query/filter/compile.js';
import { FilterSyntaxError } from '../../query/filter/errors.js';
import { parseFilter } from '../../query/filter/parse.js';
import { host, services, v6 } from './helpers.js';

const a = sport('=', 1);
const b = dport('=', 2);
const c = sport('=', 3);
const A = 'sport = :1';
const B = 'dport = :2';
const C = 'sport = :3';

const table: Array<[string, FilterNode]> = [
  // port comparisons, every operator spelling
  ['sport = :22', sport('=', 22)],
  ['sport == :22', sport('=', 22)],
  ['sport eq 22', sport('=', 22)],
  ['sport :22', sport('=', 22)],
  ['sport 22', sport('=', 22)],
  ['dport != :22', dport('!=', 22)],
  ['dport ne :22', dport('!=', 22)],
  ['dport neq :22', dport('!=', 22)],
  ['dport < :1024', dport('<', 1024)],
  ['dport lt 1024', dport('<', 1024)],
  ['dport <= :1024', dport('<=', 1024)],
  ['dport le :1024', dport('<=', 1024)],
  ['dport leq :1024', dport('<=', 1024)],
  ['dport > :1024', dport('>', 1024)],
  ['dport gt :1024', dport('>', 1024)],
  ['dport >= :1024', dport('>=', 1024)],
  ['dport ge :1024', dport('>=', 1024)],
  ['dport geq :1024', dport('>=', 1024)],
  ['dport = :https', dport('=', 443)],
  ['sport = ssh', sport('=', 22)],
  ['sport = :0x16', sport('=', 22)],
  ['sport = :026', sport('=', 22)],
  ['sport = :0', sport('=', 0)],
  ['dport = :65535', dport('=', 65535)],
  // wildcard ports become address conditions, as in ss
  ['sport = *', host('src', null)],
  ['dport = :*', host('dst', null)],
  ['dport != *', not(host('dst', null))],
  // addresses
  ['src 10.0.0.1', host('src', ['inet', [10, 0, 0, 1], 32])],
  ['src = 10.0.0.1', host('src', ['inet', [10, 0, 0, 1], 32])],
  ['src eq 10.0.0.1/32', host('src', ['inet', [10, 0, 0, 1], 32])],
  ['src == 10.0.0.0/8', host('src', ['inet', [10, 0, 0, 0], 8])],
  ['src 10.1.2.3/8', host('src', ['inet', [10, 0, 0, 0], 8])],
  ['src 10/8', host('src', ['inet', [10, 0, 0, 0], 8])],
  ['src 10.0.0.4/30', host('src', ['inet', [10, 0, 0, 4], 30])],
  ['dst 0.0.0.0/0', host('dst', ['inet', [0, 0, 0, 0], 0])],
  ['dst 10.0.0.1:80', host('dst', ['inet', [10, 0, 0, 1], 32], 80)],
  ['dst 10.0.0.0/8:http', host('dst', ['inet', [10, 0, 0, 0], 8], 80)],
  ['dst 10.0.0.1:', host('dst', ['inet', [10, 0, 0, 1], 32])],
  ['dst 10.0.0.1:*', host('dst', ['inet', [10, 0, 0, 1], 32])],
  ['src *', host('src', null)],
  ['src *:*', host('src', null)],
  ['src any', host('src', null)],
  ['src *:22', host('src', null, 22)],
  ['src :22', host('src', null, 22)],
  ['src [::1]', host('src', ['inet6', v6([], [1]), 128])],
  ['dst [::1]:443', host('dst', ['inet6', v6([], [1]), 128], 443)],
  ['dst [::1]:https', host('dst', ['inet6', v6([], [1]), 128], 443)],
  ['src [fe80::1234/10]:22', host('src', ['inet6', v6([0xfe, 0x80]), 10], 22)],
  ['src ::1/128', host('src', ['inet6', v6([], [1]), 128])],
  ['src 2001:db8::/32', host('src', ['inet6', v6([0x20, 0x01, 0x0d, 0xb8]), 32])],
  ['dst 2001:db8::1:443', host('dst', ['inet6', v6([0x20, 0x01, 0x0d, 0xb8], [1]), 128], 443)],
  ['dst [::ffff:10.0.0.1]', host('dst', ['inet6', v6([], [0xff, 0xff, 10, 0, 0, 1]), 128])],
  ['dst [::ffff:10.0.0.0/104]:80', host('dst', ['inet6', v6([], [0xff, 0xff, 10, 0, 0, 0]), 104], 80)],
  ['dst [10.0.0.1]:80', host('dst', ['inet', [10, 0, 0, 1], 32], 80)],
  // devices, marks, cgroups, autobound
  ['dev lo', dev('lo')],
  ['dev = eth0.100', dev('eth0.100')],
  ['dev == 3', dev(3)],
  ['dev 0x10', dev(16)],
  ['dev != lo', not(dev('lo'))],
  ['fwmark 0x10', mark(0x10)],
  ['fwmark = 16/0xff', mark(16, 0xff)],
  ['fwmark != 0x1/0x1', not(mark(1, 1))],
  ['cgroup /system.slice/sshd.service', cgroup('/system.slice/sshd.service')],
  ['cgroup = 4242', cgroup(4242n)],
  ['cgroup != /user.slice', not(cgroup('/user.slice'))],
  ['cgroup /a\\ b\\\\c', cgroup('/a b\\c')],
  ['autobound', autobound()],
  // boolean structure
  [`${A} and ${B}`, and(a, b)],
  [`${A} && ${B}`, and(a, b)],
  [`${A} & ${B}`, and(a, b)],
  [`${A} ${B}`, and(a, b)],
  [`${A} or ${B}`, or(a, b)],
  [`${A} || ${B}`, or(a, b)],
  [`${A} | ${B}`, or(a, b)],
  [`not ${A}`, not(a)],
  [`! ${A}`, not(a)],
  [`! ! ${A}`, not(not(a))],
  [`not ${A} ${B}`, and(not(a), b)],
  [`${A} and ${B} and ${C}`, and(a, b, c)],
  [`${A} or ${B} or ${C}`, or(a, b, c)],
  // ss gives `and` and `or` the same precedence, left to right
  [`${A} or ${B} and ${C}`, and(or(a, b), c)],
  [`${A} and ${B} or ${C}`, or(and(a, b), c)],
  [`${A} or ${B} ${C}`, and(or(a, b), c)],
  [`${A} or ( ${B} and ${C} )`, or(a, and(b, c))],
  [`( ${A} and ${B} ) and ${C}`, and(and(a, b), c)],
  [`( ( ( ${A} ) ) )`, a],
  [`not ( ${A} or ${B} )`, not(or(a, b))],
  [`! ( ${A} ) autobound`, and(not(a), autobound())],
  ['( dport = :ssh or sport = :ssh )', or(dport('=', 22), sport('=', 22))],
  ['sport\t=\n:22', sport('=', 22)],
];

describe('parseFilter', () => {
  it.each(table)('%s', (text, expected) => {
    expect(parseFilter(text, { services })).toStrictEqual(expected);
  });

  it('covers a table of at least 40 expressions', () => {
    expect(table.length).toBeGreaterThanOrEqual(40);
  });

  it('returns null for an empty filter, as ss accepts one', () => {
    expect(parseFilter('')).toBeNull();
    expect(parseFilter(' \t ')).toBeNull();
    expect(parseFilter([])).toBeNull();
  });

  it('takes argv tokens, splitting each like ss', () => {
    const argv = ['dport', '=', ':https', 'and', '( src 10.0.0.0/8 or src [::1] )'];
    expect(parseFilter(argv, { services })).toStrictEqual(
      and(dport('=', 443), or(host('src', ['inet', [10, 0, 0, 0], 8]), host('src', ['inet6', v6([], [1]), 128]))),
    );
  });

  it('does not let an escape at the end of one argv element join it to the next', () => {
    expect(parseFilter(['cgroup', '/a\\', 'autobound'])).toStrictEqual(and(cgroup('/a'), autobound()));
  });

  it.skipIf(!existsSync('/etc/services'))('reads service names from /etc/services by default', () => {
    expect(parseFilter('dport = :ssh')).toStrictEqual(dport('=', 22));
  });
});

describe('UNIX name patterns', () => {
  it('are src/dst values with the unix: prefix, in any listing', () => {
    expect(parseFilter('src unix:/tmp/.X11-unix/* or dst unix:@bus*')).toStrictEqual(or(unixSrc('/tmp/.X11-unix/*'), unixDst('@bus*')));
    expect(parseFilter('src unix:')).toStrictEqual(unixSrc(''));
  });

  it('are every src/dst value with unixNames, as ss reads them when it lists UNIX sockets only', () => {
    expect(parseFilter("src /tmp/* and dst 10.0.0.1", { unixNames: true })).toStrictEqual(and(unixSrc('/tmp/*'), unixDst('10.0.0.1')));
    expect(parseFilter('src unix:/a', { unixNames: true })).toStrictEqual(unixSrc('/a'));
    // Ports stay ports.
    expect(parseFilter('sport = :22', { unixNames: true, services })).toStrictEqual(sport('=', 22));
    expect(() => parseFilter('src /tmp/*')).toThrow(FilterSyntaxError);
  });

  it('never match in an INET dump: the planner folds them to false, exactly', () => {
    expect(planFilter(unixSrc('/x'))).toMatchObject({ empty: true, kernel: null, userspace: null });
    expect(planFilter(not(unixSrc('/x')))).toMatchObject({ empty: false, kernel: null, userspace: null });
    expect(planFilter(or(unixSrc('/x'), sport('=', 22)))).toMatchObject({ empty: false, kernel: sport('=', 22), userspace: null });
  });
});
