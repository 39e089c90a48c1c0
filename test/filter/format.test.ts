import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maskBytes } from '../../query/filter/address.js';
import {
  and, autobound, cgroup, dev, dport, mark, not, or, sport, unixDst, unixSrc, type FilterNode, type HostPrefix,
} from '../../query/filter/ast.js';
import { FilterSyntaxError } from '../../query/filter/errors.js';
import { formatFilter } from '../../query/filter/format.js';
import { parseFilter } from '../../query/filter/parse.js';
import { keyword } from '../../query/filter/values.js';
import { host, services, v6 } from './helpers.js';

describe('formatFilter', () => {
  it.each<[string, FilterNode]>([
    ['sport = :22', sport('eq', 22)],
    ['dport >= :1024', dport('geq', 1024)],
    ['src 10.0.0.0/8', host('src', ['inet', [10, 0, 0, 0], 8])],
    ['src 10.0.0.1:22', host('src', ['inet', [10, 0, 0, 1], 32], 22)],
    ['dst [::1]:443', host('dst', ['inet6', v6([], [1]), 128], 443)],
    ['dst [fe80::/10]', host('dst', ['inet6', v6([0xfe, 0x80]), 10])],
    ['dst [::ffff:10.0.0.1]', host('dst', ['inet6', v6([], [0xff, 0xff, 10, 0, 0, 1]), 128])],
    ['src *', host('src', null)],
    ['src *:22', host('src', null, 22)],
    ['dev lo', dev('lo')],
    ['dev 3', dev(3)],
    ['fwmark 0x10', mark(0x10)],
    ['fwmark 0x1/0xff', mark(1, 0xff)],
    ['cgroup /a\\ b\\\\c', cgroup('/a b\\c')],
    ['cgroup 7', cgroup(7n)],
    ['autobound', autobound()],
    ['src unix:/tmp/.X11-unix/*', unixSrc('/tmp/.X11-unix/*')],
    ['dst unix:@a\\ b*', unixDst('@a b*')],
    ['src unix:', unixSrc('')],
    ['not sport = :1', not(sport('=', 1))],
    ['not ( sport = :1 or dport = :2 )', not(or(sport('=', 1), dport('=', 2)))],
    ['( sport = :1 or dport = :2 ) and autobound', and(or(sport('=', 1), dport('=', 2)), autobound())],
    ['( sport = :1 and dport = :2 ) and autobound', and(and(sport('=', 1), dport('=', 2)), autobound())],
  ])('%s', (text, node) => {
    expect(formatFilter(node)).toBe(text);
  });
});

const side = fc.constantFrom('src' as const, 'dst' as const);
const portNumber = fc.integer({ min: 0, max: 65535 });
const u32 = fc.integer({ min: 0, max: 0xffffffff });

function prefixOf(family: HostPrefix['family'], bytes: number[], prefixLength: number): HostPrefix {
  return { family, bytes: maskBytes(bytes, prefixLength), prefixLength };
}

const prefix: fc.Arbitrary<HostPrefix> = fc.oneof(
  fc.tuple(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.integer({ min: 0, max: 32 }))
    .map(([bytes, length]) => prefixOf('inet', [...bytes], length)),
  fc.tuple(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 128 }))
    .map(([bytes, length]) => prefixOf('inet6', [...bytes], length)),
  fc.tuple(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.integer({ min: 96, max: 128 }))
    .map(([bytes, length]) => prefixOf('inet6', v6([], [0xff, 0xff, ...bytes]), length)),
  fc.tuple(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.nat(8))
    .map(([bytes, zeros]) => prefixOf('inet6', [...new Array<number>(2 * zeros).fill(0), ...bytes].slice(0, 16), 128)),
);

const name = fc.stringMatching(/^[a-z][a-z0-9._-]{0,14}$/).filter((text) => !keyword(text));
const path = fc.array(fc.stringMatching(/^[a-zA-Z0-9 ._\\()-]{1,8}$/), { minLength: 0, maxLength: 4 })
  .map((parts) => `/${parts.join('/')}`);

function record<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true });
}

const leaf: fc.Arbitrary<FilterNode> = fc.oneof(
  record({ kind: fc.constant('port' as const), side, op: fc.constantFrom('=', '!=', '<', '<=', '>', '>=' as const), port: portNumber }),
  record({ kind: fc.constant('host' as const), side, prefix: fc.option(prefix, { nil: null }), port: fc.option(portNumber, { nil: null }) }),
  record({ kind: fc.constant('dev' as const), dev: fc.oneof(name, u32) }),
  record({ kind: fc.constant('mark' as const), value: u32, mask: u32 }),
  record({ kind: fc.constant('cgroup' as const), cgroup: fc.oneof(path, fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })) }),
  fc.constant<FilterNode>({ kind: 'autobound' }),
  record({ kind: fc.constant('unix' as const), side, pattern: fc.string({ maxLength: 8 }) }),
);

const { node: filterNode } = fc.letrec<{ node: FilterNode; and: FilterNode; or: FilterNode; not: FilterNode }>((tie) => ({
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('and'), tie('or'), tie('not')),
  and: fc.array(tie('node'), { minLength: 2, maxLength: 4 }).map((args) => ({ kind: 'and' as const, args })),
  or: fc.array(tie('node'), { minLength: 2, maxLength: 4 }).map((args) => ({ kind: 'or' as const, args })),
  not: tie('node').map((arg) => ({ kind: 'not' as const, arg })),
}));

describe('parseFilter(formatFilter(x))', () => {
  it('gives back x for random ASTs', () => {
    fc.assert(
      fc.property(filterNode, (node) => {
        expect(parseFilter(formatFilter(node), { services })).toStrictEqual(node);
      }),
      { numRuns: 2000 },
    );
  });

  it('also holds as argv (the formatted text split into its tokens)', () => {
    fc.assert(
      fc.property(filterNode, (node) => {
        const argv = formatFilter(node).match(/(?:\\.|[^ ])+/g) ?? [];
        expect(parseFilter(argv, { services })).toStrictEqual(node);
      }),
      { numRuns: 300 },
    );
  });
});

describe('parseFilter on arbitrary token soup', () => {
  const token = fc.oneof(
    fc.constantFrom(
      '(', ')', '!', 'not', 'and', 'or', '&&', '||', 'sport', 'dport', 'src', 'dst', 'dev', 'fwmark',
      'cgroup', 'autobound', '=', '!=', '<', '>=', 'eq', ':22', '*', '10.0.0.0/8', '[::1]:80', 'lo', '0x1/0x3', '/a',
      'unix:/tmp/*', 'unix:',
    ),
    fc.string({ maxLength: 6 }),
  );

  it('either throws FilterSyntaxError or yields an AST that re-formats stably', () => {
    fc.assert(
      fc.property(fc.array(token, { maxLength: 20 }), (tokens) => {
        let node: FilterNode | null;
        try {
          node = parseFilter(tokens, { services });
        } catch (error) {
          expect(error).toBeInstanceOf(FilterSyntaxError);
          const { column, input } = error as FilterSyntaxError;
          expect(column).toBeGreaterThanOrEqual(1);
          expect(column).toBeLessThanOrEqual(input.length + 1);
          return;
        }
        if (node) expect(parseFilter(formatFilter(node), { services })).toStrictEqual(node);
      }),
      { numRuns: 3000 },
    );
  });
});
