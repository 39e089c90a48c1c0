/**
 * The command's filter expression, as ss reads it: the words of the command line first,
 * then the lines of `-F FILE` (`-` for standard input), each a run of words; lines that
 * start with `#` are comments.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { FilterSyntaxError, parseFilter, type FilterNode } from '../query/filter/index.js';
import { UsageError, type CliOptions } from './args.js';

/**
 * The filter of the command line `o`; null for none. `unixNames`: read src/dst values as
 * UNIX name patterns (only UNIX sockets are listed, as ss does then).
 * @throws UsageError naming the problem: a file that cannot be read, or where a mistake is.
 */
export function commandFilter(o: CliOptions, unixNames: boolean): FilterNode | null {
  let lines: FilterLine[] = [];
  if (o.filterFile !== undefined) {
    try {
      lines = readFilterFile(o.filterFile);
    } catch (e) {
      throw new UsageError(`cannot read the filter file '${o.filterFile}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  try {
    return parseFilter([...o.filter, ...lines.map((l) => l.text)], { unixNames });
  } catch (e) {
    if (!(e instanceof FilterSyntaxError)) throw e;
    const at = fileLocation(e.column, o.filter, lines);
    throw new UsageError(at ? `bad filter in '${o.filterFile}', line ${at.line}, column ${at.column}: ${e.reason}` : `bad filter at column ${e.column}: ${e.reason}`);
  }
}

/** ss reads a line of at most 1023 bytes; a file far past any real filter is a mistake (or /dev/zero). */
const MAX_BYTES = 1 << 20;

/** A line of the file that holds words, with its 1-based line number. */
interface FilterLine {
  readonly text: string;
  readonly line: number;
}

/**
 * The lines of `path` that hold filter words. Reads at most 1 MiB.
 * @throws Error naming the file and why it cannot be read.
 */
function readFilterFile(path: string): FilterLine[] {
  const fd = path === '-' ? standardInput() : openSync(path, 'r');
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for (;;) {
      const chunk = Buffer.alloc(64 * 1024);
      const n = readWaiting(fd, chunk);
      if (n === 0) break;
      total += n;
      if (total > MAX_BYTES) throw new Error(`larger than ${MAX_BYTES >> 20} MiB`);
      chunks.push(chunk.subarray(0, n));
    }
  } finally {
    if (fd !== 0) closeSync(fd);
  }
  return Buffer.concat(chunks)
    .toString('utf8')
    .split('\n')
    .map((text, i) => ({ text, line: i + 1 }))
    .filter(({ text }) => !text.startsWith('#') && text.trim() !== '');
}

/** Standard input opened anew (in blocking mode, whatever node made of fd 0); fd 0 itself when it is a socket. */
function standardInput(): number {
  try {
    return openSync('/dev/stdin', 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENXIO') return 0;
    throw e;
  }
}

/** readSync that waits (10 ms at a time) while a non-blocking descriptor has nothing yet. */
function readWaiting(fd: number, into: Buffer): number {
  for (;;) {
    try {
      return readSync(fd, into, 0, into.length, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
}

/**
 * Where a column of the expression `[...words, ...lines]` (joined with single spaces, as
 * parseFilter joins argv) falls in the file: its line and column, or undefined when it
 * falls in the command line's words.
 */
function fileLocation(column: number, words: readonly string[], lines: readonly FilterLine[]): { line: number; column: number } | undefined {
  let start = words.reduce((n, w) => n + w.length + 1, 0) + 1;
  if (column < start) return undefined;
  for (const l of lines) {
    if (column <= start + l.text.length) return { line: l.line, column: column - start + 1 };
    start += l.text.length + 1;
  }
  // Past the end: after the last line.
  const last = lines.at(-1);
  return last && { line: last.line, column: last.text.length + 1 };
}
