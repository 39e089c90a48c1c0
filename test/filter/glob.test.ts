/**
 * UNIX name patterns against glibc's own fnmatch(3) (flags 0, as ss's unix_match calls
 * it), through koffi: fixed cases, then random patterns and names over an alphabet of
 * the characters that mean something in a pattern.
 */
import fc from 'fast-check';
import koffi from 'koffi';
import { describe, expect, it } from 'vitest';
import { globMatcher } from '../../query/filter/glob.js';

const fnmatch = koffi.load('libc.so.6').func('int fnmatch(const char *pattern, const char *string, int flags)') as (p: string, s: string, f: number) => number;
const glibc = (pattern: string, text: string) => fnmatch(pattern, text, 0) === 0;

describe('globMatcher: fnmatch(3) with no flags', () => {
  it.each<[string, string, boolean]>([
    ['/tmp/.X11-unix/*', '/tmp/.X11-unix/X0', true],
    ['/tmp/*', '/tmp/sub/dir.sock', true], // '*' crosses '/' (no FNM_PATHNAME)
    ['/tmp/*', '/var/tmp/x', false],
    ['@abstract*', '@abstract-x', true],
    ['*', '', true],
    ['', '', true],
    ['', 'x', false],
    ['?', '', false],
    ['a?c', 'abc', true],
    ['[abc]', 'b', true],
    ['[!abc]', 'b', false],
    ['[^abc]', 'd', true],
    ['[]]', ']', true],
    ['[!]]', 'a', true],
    ['[a-c]x', 'bx', true],
    ['[c-a]', 'b', false],
    ['[[=a=]b]', 'a', true],
    ['[[.-.]]', '-', true],
    ['[[.ab.]]', 'a', false],
    ['[[.a]', 'a', false],
    ['[a-]', '-', true],
    ['[[:digit:]]', '7', true],
    ['[[:alpha:][:digit:]]', '_', false],
    ['[[:nosuch:]]', 'a', false],
    ['[ab', '[ab', true],
    ['\\*', '*', true],
    ['\\*', 'a', false],
    ['a\\', 'a\\', false],
    ['[\\]]', ']', true],
    ['.*', '.hidden', true],
    ['(x)+', '(x)+', true],
    ['$^|{}', '$^|{}', true],
  ])('%j against %j: %s', (pattern, text, want) => {
    expect(glibc(pattern, text), 'glibc').toBe(want);
    expect(globMatcher(pattern)(text)).toBe(want);
  });

  it('never backtracks without end: many stars against a long name that almost matches', () => {
    // A RegExp made of the pattern took longer than 30 s here; the wildcard walk is linear per star.
    const pattern = `${'*a'.repeat(40)}b`;
    const name = 'a'.repeat(108);
    const started = performance.now();
    expect(globMatcher(pattern)(name)).toBe(false);
    expect(globMatcher(pattern)(`${name}b`)).toBe(true);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(glibc(pattern, `${name}b`)).toBe(true);
  });

  it('agrees with glibc on random patterns and names', () => {
    // No '=': glibc fails a whole match when a set member matches before a `[=` that does
    // not close (`[a[=]` does not match 'a'), a quirk of how it skips the rest of a set.
    const patternChar = fc.constantFrom('*', '?', '[', ']', '!', '^', '-', '\\', '/', '.', ':', 'a', 'b', 'c', 'z', '@');
    const nameChar = fc.constantFrom('/', '.', 'a', 'b', 'c', 'z', '@', '-', ']', '[', '*', '\\', '!');
    fc.assert(
      fc.property(fc.array(patternChar, { maxLength: 10 }), fc.array(nameChar, { maxLength: 8 }), (p, n) => {
        const [pattern, name] = [p.join(''), n.join('')];
        expect(globMatcher(pattern)(name), `${JSON.stringify(pattern)} against ${JSON.stringify(name)}`).toBe(glibc(pattern, name));
      }),
      { numRuns: Number(process.env.GLOB_RUNS ?? 20_000) },
    );
  });

  it('agrees with glibc on every class name it knows, and on names it does not', () => {
    const names = ['alnum', 'alpha', 'blank', 'cntrl', 'digit', 'graph', 'lower', 'print', 'punct', 'space', 'upper', 'xdigit', 'word', 'Alpha'];
    for (const cls of names) {
      for (let code = 0; code < 128; code++) {
        const text = String.fromCharCode(code);
        if (code === 0) continue; // a C string cannot hold NUL
        for (const pattern of [`[[:${cls}:]]`, `[![:${cls}:]]`]) {
          expect(globMatcher(pattern)(text), `${pattern} against ${code}`).toBe(glibc(pattern, text));
        }
      }
    }
  });
});
