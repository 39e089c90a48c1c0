/**
 * Small string builders of the text output, made for speed: a listing calls them
 * for every cell of 100,000 rows. Padding takes its spaces from ready-made runs
 * instead of making a fresh string per call, as padStart/padEnd do.
 */

/** Runs of spaces by length, made once; longer ones are made on demand. */
const SPACES: string[] = Array.from({ length: 129 }, (_, n) => ' '.repeat(n));

/** `n` spaces (none for n <= 0). */
export function spaces(n: number): string {
  if (n <= 0) return '';
  return n < SPACES.length ? SPACES[n]! : ' '.repeat(n);
}

/** `text.padEnd(width)`. */
export function padEnd(text: string, width: number): string {
  return text.length >= width ? text : text + spaces(width - text.length);
}

/** `text.padStart(width)`. */
export function padStart(text: string, width: number): string {
  return text.length >= width ? text : spaces(width - text.length) + text;
}

/** Two fragments separated by a space, either of which may be empty (`[a, b].filter(nonEmpty).join(' ')`). */
export function spaced(a: string, b: string): string {
  if (a === '') return b;
  return b === '' ? a : a + ' ' + b;
}
