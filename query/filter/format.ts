/** Printing filter ASTs back as ss filter text. */
import { formatIp } from './address.js';
import type { FilterNode, HostNode } from './ast.js';

/** Backslash-escapes what the tokenizer would split on (ss's get_token_from_line() rules). */
function escape(text: string): string {
  return text.replace(/[ \t\n\r\f\v\\]/g, '\\$&');
}

function hostSpec({ prefix, port }: HostNode): string {
  const portText = port === null ? '' : `:${port}`;
  if (!prefix) return `*${portText}`;
  const full = prefix.family === 'inet' ? 32 : 128;
  const address = `${formatIp(prefix.bytes)}${prefix.prefixLength === full ? '' : `/${prefix.prefixLength}`}`;
  return prefix.family === 'inet' ? `${address}${portText}` : `[${address}]${portText}`;
}

const hex = (n: number): string => `0x${n.toString(16)}`;

/** Formats an operand, parenthesizing and/or so the grouping survives re-parsing. */
function operand(node: FilterNode): string {
  return node.kind === 'and' || node.kind === 'or' ? `( ${formatFilter(node)} )` : formatFilter(node);
}

/**
 * Prints an AST in ss filter syntax, e.g. `dport = :443 and not ( src 10.0.0.0/8 or src [::1] )`.
 * `parseFilter(formatFilter(node))` deep-equals `node`. Nested and/or are always
 * parenthesized, since ss gives `and` and `or` equal precedence.
 */
export function formatFilter(node: FilterNode): string {
  switch (node.kind) {
    case 'and':
    case 'or':
      return node.args.map(operand).join(` ${node.kind} `);
    case 'not':
      return `not ${operand(node.arg)}`;
    case 'port':
      return `${node.side === 'src' ? 'sport' : 'dport'} ${node.op} :${node.port}`;
    case 'host':
      return `${node.side} ${hostSpec(node)}`;
    case 'dev':
      return `dev ${typeof node.dev === 'number' ? node.dev : escape(node.dev)}`;
    case 'mark':
      return `fwmark ${hex(node.value)}${node.mask === 0xffffffff ? '' : `/${hex(node.mask)}`}`;
    case 'cgroup':
      return `cgroup ${typeof node.cgroup === 'bigint' ? node.cgroup : escape(node.cgroup)}`;
    case 'autobound':
      return 'autobound';
    case 'unix':
      return `${node.side} unix:${escape(node.pattern)}`;
  }
}
