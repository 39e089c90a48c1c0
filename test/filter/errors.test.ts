import { describe, expect, it } from 'vitest';
import { cgroup, dev, dst, src } from '../../query/filter/ast.js';
import { FilterSyntaxError } from '../../query/filter/errors.js';
import { parseFilter } from '../../query/filter/parse.js';
import { services } from './helpers.js';

function syntaxError(run: () => unknown): FilterSyntaxError {
  try {
    run();
  } catch (error) {
    if (error instanceof FilterSyntaxError) return error;
    throw error;
  }
  throw new Error('no error thrown');
}

/** [filter text, reason, column] */
const cases: Array<[string, string, number]> = [
  // structure
  ['and sport = :22', "expected a filter term, found 'and'", 1],
  [')', "expected a filter term, found ')'", 1],
  ['( )', "expected a filter term, found ')'", 3],
  ['sport = :22 and', "expected a filter term after 'and'", 16],
  ['sport = :22 or or dport = :1', "expected a filter term, found 'or'", 16],
  ['not', "expected a filter term after 'not'", 4],
  ['( sport = :22', "unclosed '('", 1],
  ['( ( sport = :22 )', "unclosed '('", 1],
  ['sport = :22 )', "unmatched ')'", 13],
  ['sport = :22 10.0.0.1', "unexpected '10.0.0.1'; expected 'and', 'or', ')' or another term", 13],
  ['SPORT = :22', "expected a filter term, found 'SPORT'", 1],
  ['10.0.0.1', "expected a filter term, found '10.0.0.1'", 1],
  // ss splits on whitespace only
  ['(sport = :22 )', "expected a filter term, found '(sport'; put spaces around parentheses", 1],
  ['( sport = :22)', "invalid port number '22)'; put spaces around parentheses", 12],
  ['( src 10.0.0.1)', "'10.0.0.1)' is not an IPv4 or IPv6 address; put spaces around parentheses", 7],
  // missing or misplaced values
  ['sport =', "expected a port after 'sport ='", 8],
  ['sport = and dport = :1', "expected a port after 'sport =', found 'and'", 9],
  ['dport', "expected a port after 'dport'", 6],
  ['src', "expected an address after 'src'", 4],
  ['dst = )', "expected an address after 'dst =', found ')'", 7],
  ['dev', "expected an interface name or index after 'dev'", 4],
  ['fwmark eq', "expected a mark after 'fwmark eq'", 10],
  ['cgroup !=', "expected a cgroup path or id after 'cgroup !='", 10],
  // operators a keyword does not take
  ['src != 10.0.0.1', "'src' does not take '!=' (only '=')", 5],
  ['dst >= 10.0.0.1', "'dst' does not take '>=' (only '=')", 5],
  ['dev gt 3', "'dev' does not take 'gt' (only '=' and '!=')", 5],
  ['fwmark < 1', "'fwmark' does not take '<' (only '=' and '!=')", 8],
  // ports
  ['sport = :foo', "'foo' is neither a port number nor a known service name", 10],
  ['sport = :08', "invalid port number '08'", 10],
  ['sport = 22x', "invalid port number '22x'", 9],
  ['sport = :65536', 'port 65536 is out of range (0-65535)', 10],
  ['sport = :', 'expected a port number or service name', 10],
  ['sport > *', "'>' needs a port number, not a wildcard", 9],
  ['dport <= :*', "'<=' needs a port number, not a wildcard", 10],
  ['src 10.0.0.1:99999', 'port 99999 is out of range (0-65535)', 14],
  ['src [::1]:nope', "'nope' is neither a port number nor a known service name", 11],
  // addresses
  ['src 10.0.0.256', "'10.0.0.256' is not an IPv4 or IPv6 address", 5],
  ['src 010.0.0.1', "'010.0.0.1' is not an IPv4 or IPv6 address", 5],
  ['dst localhost', "'localhost' is not an IPv4 or IPv6 address", 5],
  ['src 10.0.0.0/33', "invalid prefix length '33' (0-32)", 14],
  ['src [::1/129]', "invalid prefix length '129' (0-128)", 10],
  ['src 10.0.0.0/', "invalid prefix length '' (0-32)", 14],
  ['src [::1', "missing ']' after a bracketed address", 9],
  ['src [1::2::3]', "'1::2::3' is not an IPv4 or IPv6 address", 6],
  ['src ::1', 'IPv6 addresses must be written in brackets, e.g. [::1] or [::1]:80', 5],
  ['dst fe80::1', 'IPv6 addresses must be written in brackets, e.g. [::1] or [::1]:80', 5],
  ['sport = unix:/run/x.sock', "address family prefix 'unix:' is not supported", 9],
  ['src inet6:[::1]', "address family prefix 'inet6:' is not supported", 5],
  ['dport = inet::22', "address family prefix 'inet:' is not supported", 9],
  // marks, devices, cgroups
  ['fwmark 0x1/zz', "invalid mask 'zz'", 12],
  ['fwmark 0x100000000', "invalid mark '0x100000000'", 8],
  ['fwmark -1', "invalid mark '-1'", 8],
  ['dev eth0/1', "invalid interface name 'eth0/1'", 5],
  ['dev averyveryverylongname', "invalid interface name 'averyveryverylongname'", 5],
  ['dev 0x100000000', "invalid interface index '0x100000000'", 5],
  ['cgroup 18446744073709551616', 'cgroup id 18446744073709551616 is out of range', 8],
];

describe('FilterSyntaxError', () => {
  it.each(cases)('%s', (text, reason, column) => {
    const error = syntaxError(() => parseFilter(text, { services }));
    expect(error.reason).toBe(reason);
    expect(error.column).toBe(column);
    expect(error.message).toBe(`${reason} at column ${column}`);
    expect(error.input).toBe(text);
    expect(error.name).toBe('FilterSyntaxError');
  });

  it('counts columns in argv tokens joined with single spaces', () => {
    const error = syntaxError(() => parseFilter(['dport', '=', ':https', 'and', 'src  10.0.0.256'], { services }));
    expect(error.input).toBe('dport = :https and src  10.0.0.256');
    expect(error.column).toBe(25);
  });

  it('points inside escaped tokens at the character (its backslash, if escaped)', () => {
    expect(syntaxError(() => parseFilter('dev e\\ th0', { services })).column).toBe(5);
    expect(syntaxError(() => parseFilter('src \\1.2.3.4:\\x', { services })).column).toBe(14);
    expect(syntaxError(() => parseFilter('src 1.2.3.4/\\3\\3', { services })).column).toBe(13);
  });

  it('shortens very long tokens in messages', () => {
    const error = syntaxError(() => parseFilter(`src ${'9'.repeat(5000)}`, { services }));
    expect(error.reason).toBe(`'${'9'.repeat(37)}...' is not an IPv4 or IPv6 address`);
  });

  it('is thrown by builders for bad text, with columns in that text', () => {
    expect(syntaxError(() => src('10.0.0.0/40')).column).toBe(10);
    expect(syntaxError(() => dst('[::1]:x', { services })).column).toBe(7);
    expect(syntaxError(() => dev('and')).reason).toBe("invalid interface name 'and'");
    expect(syntaxError(() => cgroup('(')).reason).toBe("invalid cgroup path '('");
  });
});
