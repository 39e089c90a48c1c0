/**
 * The checks of single values that query/check.ts and query/filter/check.ts make of
 * what callers pass, each throwing a TypeError or RangeError that starts with the
 * value's name (`sport: 70000 is outside 0 to 65535`).
 */
import { describeValue as show } from './display.js';

/** `value` is one of `known` (or undefined, when `optional`). */
export function oneOf(name: string, value: unknown, known: readonly string[], optional = true): void {
  if (optional && value === undefined) return;
  if (typeof value !== 'string' || !known.includes(value)) throw new TypeError(`${name}: unknown value ${show(value)} (known: ${known.join(', ')})`);
}

/** `value` is an array of names of `known` (or undefined). */
export function namesOf(name: string, value: unknown, known: readonly string[]): void {
  if (value === undefined) return;
  if (!Array.isArray(value)) throw new TypeError(`${name}: an array of names, not ${show(value)}`);
  for (const v of value) oneOf(name, v, known, false);
}

/** `value` is an integer from `min` to `max` (or undefined, when `optional`). */
export function integer(name: string, value: unknown, min: number, max: number, optional = true): void {
  if (optional && value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new TypeError(`${name}: an integer, not ${show(value)}`);
  if (value < min || value > max) throw new RangeError(`${name}: ${value} is outside ${min} to ${max}`);
}
