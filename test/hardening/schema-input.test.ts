/**
 * Malformed schemas: every class is reported as `file:line:column: message` and
 * nothing is written.
 *
 * test/generator/load-errors.test.ts already checks the exact message of each fixture
 * under test/fixtures/schema-bad/ (and, through `npm run generate`, that a few of them
 * write nothing). Here, reusing those fixtures rather than repeating them:
 * - every fixture, through `generate()` into an output folder that already holds
 *   files: a SchemaError whose every problem points at a real line and column of a file
 *   of the fixture, and the folder exactly as it was;
 * - classes the fixtures do not have (written inline): YAML nested 10,000 deep, files
 *   that are empty, not a map, binary, and values no C layout or netlink attribute can
 *   have (negative or absurd lengths, sizes and attribute types, integers past 2^53,
 *   flags past bit 31, empty or reserved names), which must not load, let alone
 *   crash the generator or generate code that cannot work.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSchemaFiles } from '../../generator/load.js';
import { generate } from '../../generator/main.js';
import { SchemaError } from '../../generator/yaml-check.js';
import { REPO } from '../fuzz/core.js';
import { listFiles, readTree } from '../helpers/generation.js';
import { eachCase } from './lib/each-case.js';

const BAD = join(REPO, 'test/fixtures/schema-bad');
const tmp = mkdtempSync(join(tmpdir(), 'sockdiag-hardening-schema-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** An output folder with files in it, as a previous generation leaves it. */
function populatedOut(name: string): string {
  const out = join(tmp, name);
  mkdirSync(join(out, 'reference'), { recursive: true });
  mkdirSync(join(out, 'docs'), { recursive: true });
  writeFileSync(join(out, 'old.ts'), 'export const old = 1;\n');
  writeFileSync(join(out, 'reference/old.ts'), 'export {};\n');
  writeFileSync(join(out, 'docs/old.md'), '# old\n');
  return out;
}

/** Every problem of a SchemaError: a place that exists in `files` (name → text), and `file:line:column: message` text. */
function expectPlaced(e: SchemaError, files: Map<string, string>): void {
  expect(e.problems.length).toBeGreaterThan(0);
  for (const p of e.problems) {
    const line = String(p);
    expect(line).toMatch(/^[^:\n]+\.ya?ml:\d+:\d+: \S/);
    const text = files.get(p.place.file);
    expect(text, `${line}: no such file in the schema`).toBeDefined();
    const lines = text!.split('\n');
    expect(p.place.line, line).toBeGreaterThanOrEqual(1);
    expect(p.place.line, line).toBeLessThanOrEqual(lines.length);
    expect(p.place.column, line).toBeGreaterThanOrEqual(1);
    expect(p.place.column, line).toBeLessThanOrEqual(Math.max(1, lines[p.place.line - 1]!.length + 1));
  }
}

describe('every fixture of test/fixtures/schema-bad, through generate()', () => {
  const fixtures = readdirSync(BAD).filter((f) => statSync(join(BAD, f)).isDirectory());

  it('there are fixtures', () => expect(fixtures.length).toBeGreaterThan(20));

  it.each(fixtures)('%s: SchemaError placed at a real line and column; the output folder untouched', (fixture) => {
    const out = populatedOut(fixture);
    const before = readTree(out);
    let error: unknown;
    try {
      generate(join(BAD, fixture), out);
    } catch (e) {
      error = e;
    }
    expect(error, `${fixture} generated without an error`).toBeInstanceOf(SchemaError);
    const files = new Map(listFiles(join(BAD, fixture)).map((f) => [f, readFileSync(join(BAD, fixture, f), 'utf8')]));
    expectPlaced(error as SchemaError, files);
    expect(readTree(out)).toEqual(before);
  });
});

/** Loads one in-memory file; returns the SchemaError, or a description of what happened instead. */
function load(text: string): SchemaError | string {
  try {
    loadSchemaFiles([{ file: 'x.yaml', text }]);
    return 'loaded without a problem';
  } catch (e) {
    if (e instanceof SchemaError) return e;
    return `threw ${(e as Error).name}: ${(e as Error).message.split('\n')[0]} (not a SchemaError)`;
  }
}

function expectReported(text: string, at?: RegExp): void {
  const r = load(text);
  if (typeof r === 'string') throw new Error(r);
  expectPlaced(r, new Map([['x.yaml', text]]));
  if (at) expect(r.problems.map(String).join('\n')).toMatch(at);
}

const head = 'name: x\ndoc: A schema file.\n';
const struct = (member: string, extra = '') => `${head}definitions:\n  - name: s\n    type: struct\n    doc: d\n${extra}    members:\n      - {name: a, doc: d, ${member}}\n`;
const attrs = (attr: string) => `${head}attribute-sets:\n  - name: xs\n    doc: d\n    attributes:\n      - {name: a, doc: d, ${attr}}\n`;

describe('classes the fixtures do not have', () => {
  it.each([
    ['an empty file', ''],
    ['a list instead of a map', '- a\n- b\n'],
    ['a scalar', 'hello\n'],
    ['binary bytes', '\u0000\u00ff\u00fe\u0001'],
    ['tabs for indentation', `${head}\tdefinitions: []\n`],
    ['a flow sequence nested 10,000 deep', `${head}definitions: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`],
    ['a block sequence nested 2,000 deep', `${head}definitions:\n${Array.from({ length: 2000 }, (_, i) => `${' '.repeat(2 * i + 2)}- `).join('\n')}a\n`],
    ['a struct that contains itself', `${head}definitions:\n  - name: s\n    type: struct\n    doc: d\n    members:\n      - {name: a, doc: d, type: struct, struct: s}\n`],
    ['a bit field of 0 bits', struct('type: u32, bits: 0')],
    ['a length that is not an integer', struct('type: u32, len: 2.5')],
  ])('%s: file:line:column, no crash', (_label, text) => {
    const t0 = performance.now();
    expectReported(text);
    expect(performance.now() - t0).toBeLessThan(10_000);
  });

  it('BUG (generator/load.ts): values no C layout or netlink attribute can have are reported as file:line:column', () => {
    const cases: [string, string][] = [
    ['an array of -3 elements', struct('type: u32, len: -3')],
    ['an array of 10^12 elements (the generator threw RangeError: Invalid array length)', struct('type: u32, len: 1000000000000')],
    ['a negative min-size', struct('type: u32', '    min-size: -1\n')],
    ['a const past 2^53 (its value cannot be represented)', `${head}definitions:\n  - {name: c, type: const, doc: d, value: 99999999999999999999999}\n`],
    ['an enum value past 2^53', `${head}definitions:\n  - {name: e, type: enum, doc: d, entries: [{name: a, value: 99999999999999999999}]}\n`],
    ['flags past bit 31 (the generated masks are 32-bit)', `${head}definitions:\n  - {name: e, type: flags, doc: d, value-start: 40, entries: [a, b]}\n`],
    ['an attribute type above NLA_TYPE_MASK (0x3fff: it can never be decoded)', attrs('type: u32, value: 20000')],
    ['an attribute type past 16 bits', attrs('type: u32, value: 70000')],
    ['a negative attribute type', attrs('type: u32, value: -1')],
    ['an empty name (ts-morph failed: "Inserting syntax kind of InterfaceDeclaration")', struct('type: u32').replace('name: s', 'name: ""')],
    ['a member named __proto__ (the decoded object loses the field)', struct('type: u32').replace('{name: a', '{name: __proto__')],
    ];
    eachCase(cases, ([, text]) => expectReported(text), ([label]) => label);
  });

  it('BUG (generator): generating a schema with an array of 10^12 elements fails with a SchemaError (today: RangeError), and writes nothing', () => {
    // The array of 10^12 elements: loads today, then the generator throws half-way; the output folder must stay as it was.
    const dir = join(tmp, 'huge-len');
    mkdirSync(dir);
    for (const f of ['netlink.yaml', 'socket.yaml']) copyFileSync(join(REPO, 'schema', f), join(dir, f));
    writeFileSync(join(dir, 'x.yaml'), struct('type: u32, len: 1000000000000'));
    const out = populatedOut('huge-len-out');
    const before = readTree(out);
    let error: unknown;
    try {
      generate(dir, out);
    } catch (e) {
      error = e;
    }
    expect(readTree(out)).toEqual(before);
    expect(existsSync(join(out, 'x.ts'))).toBe(false);
    expect(error).toBeInstanceOf(SchemaError);
  }, 60_000);
});
