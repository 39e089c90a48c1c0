import { describe, expect, it } from 'vitest';
import { MAX_FILTER_DEPTH, type FilterNode } from '../../query/filter/ast.js';
import { FilterSyntaxError } from '../../query/filter/errors.js';
import { matches, type FilterSocket } from '../../query/filter/evaluate.js';
import { formatFilter } from '../../query/filter/format.js';
import { parseFilter } from '../../query/filter/parse.js';

const socket: FilterSocket = { family: 'inet', src: '10.0.0.1', dst: '10.0.0.2', sport: 22, dport: 5000, ifindex: 0 };

function depth(node: FilterNode): number {
  let max = 0;
  const stack: Array<[FilterNode, number]> = [[node, 0]];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const [n, d] = item;
    max = Math.max(max, d);
    if (n.kind === 'not') stack.push([n.arg, d + 1]);
    if (n.kind === 'and' || n.kind === 'or') for (const arg of n.args) stack.push([arg, d + 1]);
  }
  return max;
}

function syntaxError(text: string): FilterSyntaxError {
  try {
    parseFilter(text);
  } catch (error) {
    if (error instanceof FilterSyntaxError) return error;
    throw error;
  }
  throw new Error('no error thrown');
}

/** `levels` nested groups, each `( dport = :N and ... )`, around `sport = :22`. */
function nestedAnds(levels: number): string {
  let text = 'sport = :22';
  for (let i = 0; i < levels; i++) text = `( dport = :${5000 + (i % 2)} or ${text} )`;
  return text;
}

describe(`nesting (limit ${MAX_FILTER_DEPTH})`, () => {
  it('parses, evaluates and re-formats 1,000 nested parenthesized groups', () => {
    const node = parseFilter(nestedAnds(1000));
    if (!node) throw new Error('empty');
    expect(depth(node)).toBe(1000);
    expect(matches(node, socket)).toBe(true);
    expect(matches(node, { ...socket, sport: 1, dport: 1 })).toBe(false);
    expect(parseFilter(formatFilter(node))).toStrictEqual(node);
  });

  it('parses 1,000 nested nots', () => {
    const node = parseFilter(`${'not '.repeat(1000)}sport = :22`);
    if (!node) throw new Error('empty');
    expect(depth(node)).toBe(1000);
    expect(matches(node, socket)).toBe(true);
    expect(parseFilter(formatFilter(node))).toStrictEqual(node);
  });

  it('rejects 1,001 levels with a FilterSyntaxError at the token that goes too deep', () => {
    const groups = syntaxError(nestedAnds(1001));
    expect(groups.reason).toBe('filter is nested too deeply (more than 1000 levels)');
    expect(groups.column).toBe(nestedAnds(1001).indexOf(' or ') + 2);
    expect(syntaxError(`${'! '.repeat(1001)}sport = :22`).column).toBe(1);
  });

  it('keeps ss grouping for long unparenthesized chains: flat when uniform, deep when alternating', () => {
    const flat = parseFilter(Array.from({ length: 20_000 }, (_, i) => `sport = :${i % 65536}`).join(' or '));
    expect(flat?.kind === 'or' && flat.args.length).toBe(20_000);
    expect(matches(flat as FilterNode, socket)).toBe(true);
    const alternating = Array.from({ length: 1001 }, (_, i) => `sport = :${i}`).join(' or ');
    expect(depth(parseFilter(alternating.replaceAll(' or ', ' and ')) as FilterNode)).toBe(1);
    const text = Array.from({ length: 1002 }, (_, i) => `sport = :${i}${i % 2 ? ' or' : ' and'}`).join(' ').replace(/ (and|or)$/, '');
    expect(syntaxError(text).reason).toMatch(/nested too deeply/);
  });

  it('never overflows the stack on 100,000 levels', () => {
    expect(parseFilter(`${'( '.repeat(100_000)}sport = :22${' )'.repeat(100_000)}`)).toStrictEqual({
      kind: 'port', side: 'src', op: '=', port: 22,
    });
    expect(syntaxError(`${'( '.repeat(100_000)}sport = :22`).reason).toBe("unclosed '('");
    expect(syntaxError(`${'not '.repeat(100_000)}sport = :22`).reason).toMatch(/nested too deeply/);
    expect(syntaxError(nestedAnds(100_000)).reason).toMatch(/nested too deeply/);
    expect(syntaxError(`sport = :22${' )'.repeat(100_000)}`).reason).toBe("unmatched ')'");
  });
});
