/**
 * Checks that a value is a filter AST as {@link parseFilter} and the builders make it,
 * for filters that come from JavaScript or from data: a node of another shape gets a
 * TypeError or RangeError that names where it is (`filter.args[1].port`), instead of an
 * error from deep inside the compiler or a matcher that quietly matches nothing.
 */
import { integer, oneOf } from '../check-values.js';
import { describeValue as show } from '../display.js';
import { MAX_FILTER_DEPTH, PORT_OPS, SIDES, type FilterNode } from './ast.js';


/** The address prefix of a host node: null, or a family, its bytes and a prefix length that fit each other. */
function checkPrefix(at: string, p: unknown): void {
  if (p === null) return;
  if (typeof p !== 'object') throw new TypeError(`${at}: an address prefix or null, not ${show(p)}`);
  const { family, bytes, prefixLength } = p as Record<string, unknown>;
  oneOf(`${at}.family`, family, ['inet', 'inet6'], false);
  const size = family === 'inet' ? 4 : 16;
  if (!Array.isArray(bytes) || bytes.length !== size) throw new TypeError(`${at}.bytes: ${size} numbers, not ${show(bytes)}`);
  bytes.forEach((b, i) => integer(`${at}.bytes[${i}]`, b, 0, 0xff, false));
  integer(`${at}.prefixLength`, prefixLength, 0, size * 8, false);
}

/**
 * Throws unless `node` is a filter AST: every node of a known kind, with the fields that
 * kind has, of their types and ranges; and/or with two or more arguments; no deeper than
 * {@link MAX_FILTER_DEPTH}. `at` names `node` in messages.
 */
export function checkFilter(node: unknown, at = 'filter'): asserts node is FilterNode {
  const stack: [unknown, string, number][] = [[node, at, 0]];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const [n, where, depth] = item;
    if (typeof n !== 'object' || n === null || typeof (n as { kind?: unknown }).kind !== 'string') {
      const hint = typeof n === 'string' ? ': parse the text with parseFilter() first' : '';
      throw new TypeError(`${where}: a filter node (from parseFilter() or the builders), not ${show(n)}${hint}`);
    }
    if (depth > MAX_FILTER_DEPTH) throw new RangeError(`${where}: nested more than ${MAX_FILTER_DEPTH} deep`);
    const f = n as Record<string, unknown>;
    switch (f.kind) {
      case 'and':
      case 'or':
        if (!Array.isArray(f.args) || f.args.length < 2) throw new TypeError(`${where}.args: two or more filter nodes, not ${show(f.args)}`);
        f.args.forEach((a, i) => stack.push([a, `${where}.args[${i}]`, depth + 1]));
        break;
      case 'not':
        stack.push([f.arg, `${where}.arg`, depth + 1]);
        break;
      case 'port':
        oneOf(`${where}.side`, f.side, SIDES, false);
        oneOf(`${where}.op`, f.op, PORT_OPS, false);
        integer(`${where}.port`, f.port, 0, 0xffff, false);
        break;
      case 'host':
        oneOf(`${where}.side`, f.side, SIDES, false);
        checkPrefix(`${where}.prefix`, f.prefix);
        if (f.port !== null) integer(`${where}.port`, f.port, 0, 0xffff, false);
        break;
      case 'dev':
        if (typeof f.dev !== 'string') integer(`${where}.dev`, f.dev, 0, 0xffffffff, false);
        break;
      case 'mark':
        integer(`${where}.value`, f.value, 0, 0xffffffff, false);
        integer(`${where}.mask`, f.mask, 0, 0xffffffff, false);
        break;
      case 'cgroup':
        if (typeof f.cgroup !== 'string' && typeof f.cgroup !== 'bigint') throw new TypeError(`${where}.cgroup: a path or a bigint id, not ${show(f.cgroup)}`);
        break;
      case 'unix':
        oneOf(`${where}.side`, f.side, SIDES, false);
        if (typeof f.pattern !== 'string') throw new TypeError(`${where}.pattern: a string, not ${show(f.pattern)}`);
        break;
      case 'autobound':
        break;
      default:
        throw new TypeError(`${where}.kind: unknown filter node kind ${show(f.kind)}`);
    }
  }
}
