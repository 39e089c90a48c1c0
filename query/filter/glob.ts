/**
 * Shell patterns as fnmatch(3) reads them with no flags, which is how ss matches UNIX
 * socket names (`ss -x src '/tmp/.X11-unix/*'`): `*` is any text, `/` included; `?` is
 * one character; `[...]` is a set (`[!...]` or `[^...]` its complement, ranges, `]`
 * first, and classes such as `[:digit:]`); a backslash makes the next character
 * literal. A `[` without its `]` is a plain character. Characters are Unicode code
 * points, where fnmatch in ss's C locale counts bytes: the two differ only for `?` and
 * sets against non-ASCII names.
 */

/** POSIX character classes, as RegExp set contents (the C locale). */
const CLASSES: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  blank: ' \\t',
  cntrl: '\\x00-\\x1f\\x7f',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: ' \\t\\n\\v\\f\\r',
  upper: 'A-Z',
  xdigit: '0-9A-Fa-f',
};

/** A RegExp that matches nothing: what fnmatch answers for some ill-formed patterns. */
const NEVER = '(?!)';

/** One character, escaped for a RegExp set or outside one. */
const literal = (c: string): string => `\\u{${c.codePointAt(0)!.toString(16)}}`;

/**
 * Reads the set starting at `pattern[start]` (the `[`). Returns its RegExp and the index
 * after its `]`, or undefined when there is no `]`: the `[` is then a plain character.
 */
function set(pattern: string[], start: number): { re: string; end: number } | undefined {
  let i = start + 1;
  const negate = pattern[i] === '!' || pattern[i] === '^';
  if (negate) i++;
  const parts: string[] = [];
  for (let first = true; i < pattern.length; first = false) {
    let c = pattern[i]!;
    if (c === ']' && !first) return { re: `[${negate ? '^' : ''}${parts.join('')}]`, end: i + 1 };
    if (c === '[' && pattern[i + 1] === ':') {
      // A class `[:name:]`; glibc reads a name of the letters a-y only, else the `[` is plain.
      let close = i + 2;
      while (close < pattern.length && pattern[close]! >= 'a' && pattern[close]! < 'z') close++;
      if (pattern[close] === ':' && pattern[close + 1] === ']') {
        const name = pattern.slice(i + 2, close).join('');
        if (!(name in CLASSES)) return { re: NEVER, end: pattern.length }; // fnmatch fails on an unknown class
        parts.push(CLASSES[name]!);
        i = close + 2;
        continue;
      }
    } else if (c === '[' && pattern[i + 1] === '=') {
      // An equivalence class `[=x=]`, in the C locale the one character; else the `[` is plain.
      if (i + 4 < pattern.length && pattern[i + 3] === '=' && pattern[i + 4] === ']') {
        parts.push(literal(pattern[i + 2]!));
        i += 5;
        continue;
      }
    } else if (c === '[' && pattern[i + 1] === '.') {
      // A collating symbol `[.x.]`, in the C locale one character; anything else fails the match.
      if (!(i + 4 < pattern.length && pattern[i + 2] !== '.' && pattern[i + 3] === '.' && pattern[i + 4] === ']')) {
        return { re: NEVER, end: pattern.length };
      }
      c = pattern[i + 2]!;
      i += 4;
    } else if (c === '\\' && i + 1 < pattern.length) {
      c = pattern[++i]!;
    }
    i++;
    // A range `a-z`; a `-` first, last or after a range is a plain `-`. A range whose
    // end is missing (the pattern ends first) fails the match, as in glibc.
    if (pattern[i] === '-' && pattern[i + 1] !== ']') {
      let to = pattern[i + 1];
      i += 2;
      if (to === '\\') to = pattern[i++];
      if (to === undefined) return { re: NEVER, end: pattern.length };
      // glibc's fnmatch makes an inverted range match nothing.
      parts.push(c.codePointAt(0)! <= to.codePointAt(0)! ? `${literal(c)}-${literal(to)}` : '');
      continue;
    }
    parts.push(literal(c));
  }
  return undefined;
}

/** A pattern's parts: `*`, or a test of one character; `never` when fnmatch matches nothing. */
type Part = '*' | ((c: string) => boolean);

/**
 * A test of whole text against `pattern`, with fnmatch(3)'s rules (no flags). It runs in
 * time proportional to the pattern's length times the text's, whatever the pattern: a
 * RegExp would backtrack exponentially on `*a*a*a...b`.
 */
export function globMatcher(pattern: string): (text: string) => boolean {
  const parts = compile([...pattern]);
  return parts === 'never' ? () => false : (text) => matchParts(parts, [...text]);
}

function compile(chars: string[]): Part[] | 'never' {
  const parts: Part[] = [];
  const one = (re: string) => {
    if (re === NEVER) return false;
    const regexp = new RegExp(`^${re}$`, 'u');
    parts.push((c) => regexp.test(c));
    return true;
  };
  for (let i = 0; i < chars.length; ) {
    const c = chars[i]!;
    if (c === '*') {
      parts.push('*');
      i++;
    } else if (c === '?') {
      parts.push(() => true);
      i++;
    } else if (c === '[') {
      const s = set(chars, i);
      if (!s) parts.push((x) => x === '[');
      else if (!one(s.re)) return 'never';
      i = s ? s.end : i + 1;
    } else if (c === '\\') {
      // A trailing backslash escapes nothing, and fnmatch then matches nothing.
      if (i + 1 >= chars.length) return 'never';
      const escaped = chars[i + 1]!;
      parts.push((x) => x === escaped);
      i += 2;
    } else {
      parts.push((x) => x === c);
      i++;
    }
  }
  return parts;
}

/**
 * The classic wildcard walk: match part by part; on a mismatch, let the last `*` take one
 * more character and go on from there. Every part but `*` takes exactly one character.
 */
function matchParts(parts: readonly Part[], text: readonly string[]): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let starText = 0;
  while (t < text.length) {
    const part = parts[p];
    if (part === '*') {
      star = p++;
      starText = t;
    } else if (part !== undefined && part(text[t]!)) {
      p++;
      t++;
    } else if (star >= 0) {
      p = star + 1;
      t = ++starText;
    } else {
      return false;
    }
  }
  while (parts[p] === '*') p++;
  return p === parts.length;
}
