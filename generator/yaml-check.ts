/**
 * Reads a YAML file into plain values while checking it against a small shape
 * description, so every problem is reported as `file:line:column: message`.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import type { Place } from './model.js';

/** A problem found in a schema file. */
export class SchemaProblem {
  constructor(
    readonly place: Place,
    readonly message: string,
  ) {}
  toString(): string {
    return `${this.place.file}:${this.place.line}:${this.place.column}: ${this.message}`;
  }
}

/** Thrown when one or more schema files are invalid. */
export class SchemaError extends Error {
  constructor(readonly problems: SchemaProblem[]) {
    super(problems.map(String).join('\n'));
    this.name = 'SchemaError';
  }
}

/** The shape a YAML value must have. */
export type Shape =
  | 'string'
  | 'int'
  | 'bool'
  | { list: Shape }
  | { map: Record<string, Shape>; required?: string[] }
  | { either: [Shape, Shape] };

/** A checked YAML value: plain data plus the place of every node. */
export interface Checked {
  value: unknown;
  place: Place;
  /** For maps: the place of each key's value. */
  fields?: Record<string, Checked>;
  /** For lists: the checked items. */
  items?: Checked[];
}

/** Parses one YAML text and checks it against `shape`, collecting problems. */
export function readYaml(file: string, text: string, shape: Shape, problems: SchemaProblem[]): Checked | undefined {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  const placeAt = (offset: number): Place => {
    const { line, col } = lines.linePos(offset);
    return { file, line, column: col };
  };
  // The yaml library appends " at line L, column C:" and a code excerpt; the place says that already.
  for (const e of doc.errors) problems.push(new SchemaProblem(placeAt(e.pos[0]), e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')));
  if (doc.errors.length > 0) return undefined;
  const check = (node: Node | null | undefined, s: Shape, at: Place, what: string): Checked | undefined => {
    const place = node?.range ? placeAt(node.range[0]) : at;
    const fail = (message: string) => {
      problems.push(new SchemaProblem(place, message));
      return undefined;
    };
    if (typeof s === 'string') {
      if (!isScalar(node)) return fail(`${what} must be a ${s}`);
      const v = node.value;
      if (s === 'string' && typeof v !== 'string') return fail(`${what} must be a string, not ${JSON.stringify(v)}`);
      if (s === 'int' && !(typeof v === 'number' && Number.isInteger(v))) return fail(`${what} must be an integer, not ${JSON.stringify(v)}`);
      if (s === 'int' && !Number.isSafeInteger(v)) return fail(`${what} is ${String(v)}, beyond the integers a number holds exactly (2^53)`);
      if (s === 'bool' && typeof v !== 'boolean') return fail(`${what} must be true or false`);
      return { value: v, place };
    }
    if ('either' in s) {
      // Choose the option by the node's kind: a scalar, a list or a map.
      const kind = (o: Shape) => (typeof o === 'string' ? 'scalar' : 'list' in o ? 'list' : 'map');
      const actual = isScalar(node) ? 'scalar' : isSeq(node) ? 'list' : 'map';
      return check(node, s.either.find((o) => kind(o) === actual) ?? s.either[0], at, what);
    }
    if ('list' in s) {
      if (!isSeq(node)) return fail(`${what} must be a list`);
      const items: Checked[] = [];
      node.items.forEach((item, i) => {
        const c = check(item as Node, s.list, place, `${what}[${i}]`);
        if (c) items.push(c);
      });
      return { value: items.map((c) => c.value), place, items };
    }
    if (!isMap(node)) return fail(`${what} must be a map`);
    const fields: Record<string, Checked> = {};
    const value: Record<string, unknown> = {};
    const present = new Set<string>();
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '?';
      present.add(key);
      const keyPlace = isScalar(pair.key) && pair.key.range ? placeAt(pair.key.range[0]) : place;
      const sub = s.map[key];
      if (!sub) {
        problems.push(new SchemaProblem(keyPlace, `unknown key '${key}' in ${what} (expected one of: ${Object.keys(s.map).join(', ')})`));
        continue;
      }
      const c = check(pair.value as Node, sub, keyPlace, `'${key}'`);
      if (c) {
        fields[key] = c;
        value[key] = c.value;
      }
    }
    // A key that is present but invalid was reported where it is; only absent keys are missing.
    for (const key of s.required ?? []) {
      if (!present.has(key)) problems.push(new SchemaProblem(place, `${what} lacks required key '${key}'`));
    }
    return { value, place, fields };
  };
  return check(doc.contents as Node, shape, { file, line: 1, column: 1 }, 'the file');
}
