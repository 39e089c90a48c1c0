/**
 * Loader errors: each bad schema under test/fixtures/schema-bad/<case>/ has one kind of
 * problem, and the loader must report exactly the expected `file:line:column: message`
 * lines (no more: a fixture is otherwise valid). Then the command line: a bad schema
 * makes `generator/main.ts` exit non-zero, print the problems and write nothing.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSchema, loadSchemaFiles } from '../../generator/load.js';
import { SchemaError } from '../../generator/yaml-check.js';
import { listFiles, REPO } from '../helpers/generation.js';

const BAD = join(REPO, 'test/fixtures/schema-bad');

/** The problem lines loadSchema reports for a fixture (fails the test if it loads). */
function problems(fixture: string): string[] {
  try {
    loadSchema(join(BAD, fixture));
  } catch (e) {
    if (!(e instanceof SchemaError)) throw e;
    return e.problems.map(String);
  }
  throw new Error(`fixture ${fixture} loaded without a problem`);
}

/** An unknown-key problem: `prefix`, then the list of the keys that may be there, which holds at least `keys`. */
function expectedKeys(prefix: string, keys: string[]): RegExp {
  const escape = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${escape(prefix)} \\(expected one of: ${keys.map((k) => `(?=(?:[^)]*, )?${escape(k)}(?:, |\\)))`).join('')}[^)]*\\)$`);
}

const cases: [fixture: string, expected: (string | RegExp)[]][] = [
  // YAML itself
  ['yaml-syntax', [/^syntax\.yaml:7:5: Flow sequence in block collection must be sufficiently indented and end with a \]$/]],
  ['yaml-duplicate-key', ['dupkey.yaml:7:5: Map keys must be unique']],
  // Unknown keys (the list of expected keys grows with the format: only some are checked)
  ['unknown-key-top', [expectedKeys("top.yaml:3:1: unknown key 'colour' in the file", ['name', 'c-header', 'doc', 'definitions', 'attribute-sets'])]],
  ['unknown-key-definition', [expectedKeys("definition.yaml:7:5: unknown key 'units' in 'definitions'[0]", ['name', 'type', 'value', 'entries', 'members', 'size'])]],
  ['unknown-key-member', [expectedKeys("member.yaml:11:9: unknown key 'lenght' in 'members'[1]", ['name', 'type', 'len', 'bits', 'offset'])]],
  ['unknown-key-attribute', [expectedKeys("attribute.yaml:10:9: unknown key 'nested' in 'attributes'[1]", ['name', 'type', 'value', 'nested-attributes'])]],
  // Wrong types
  ['wrong-type-int', ['int.yaml:6:12: \'value\' must be an integer, not "forty-two"']],
  ['wrong-type-string', ["since.yaml:7:12: 'since' must be a string, not 4.6"]],
  ['wrong-type-list', ["list.yaml:7:7: 'entries' must be a list"]],
  // Duplicates
  ['duplicate-definition', ["dup.yaml:10:5: duplicate name 'answer' (first defined at dup.yaml:4:5)"]],
  ['duplicate-definition-files', ["b.yaml:7:5: duplicate name 'point' (first defined at a.yaml:4:5)"]],
  ['duplicate-enum-name', ["enum.yaml:10:9: duplicate entry name 'red'"]],
  ['duplicate-enum-value', ["enum.yaml:11:9: duplicate entry value 2 ('blue' and 'green')"]],
  ['duplicate-attribute-value', ["attrs.yaml:14:9: duplicate attribute value 2 ('weight' and 'label')"]],
  // Undefined references: the place is the value that names the missing item.
  ['undefined-struct', ["ref.yaml:11:17: undefined struct 'innr'"]],
  ['undefined-enum', ["ref.yaml:12:15: undefined enum 'color'"]],
  ['undefined-attribute-set', ["ref.yaml:11:28: undefined attribute set 'inner-atrs'"]],
  [
    'undefined-attribute-refs',
    ["ref.yaml:17:17: undefined struct 'missing-info'", "ref.yaml:20:15: undefined enum 'missing-state'", "ref.yaml:27:14: undefined struct 'missing-reply'"],
  ],
  // Layout
  ['offset-overlap', ["layout.yaml:11:17: member 'second' at offset 2 overlaps the member before it (which ends at 4)"]],
  ['offset-misaligned', ["layout.yaml:11:17: member 'second' at offset 6 is misaligned for u32 (needs a multiple of 4)"]],
  ['offset-gap', ["layout.yaml:11:17: member 'second' is declared at offset 8 but the layout puts it at 4"]],
  ['bitfield-offset', ["layout.yaml:12:17: bit field 'low' is declared at offset 2 but the layout puts its storage unit at 4"]],
  ['size-mismatch', ["layout.yaml:6:11: struct 'pair' is declared as 6 bytes but its members lay out to 8"]],
  ['bits-too-wide', ["layout.yaml:12:15: bit field 'high' needs an integer type wide enough for 9 bits, and no len"]],
  [
    'bitfield-shares-unit',
    [
      "mixed.yaml:11:36: bit field 'b' shares its u16 storage unit at offset 0 with the member before it; declare that member as a bit field of the same unit",
      "mixed.yaml:17:9: member 'y' at offset 1 lies inside the storage unit of the bit fields before it (which ends at 2); make it a bit field of that unit",
    ],
  ],
  [
    'bitfield-u64',
    [
      "wide.yaml:7:37: bit field 'lo' is in a 64-bit unit, which the generator does not support; split it over u32 units",
      "wide.yaml:8:37: bit field 'hi' is in a 64-bit unit, which the generator does not support; split it over u32 units",
    ],
  ],
  // Missing keys
  ['missing-required-key', ["missing.yaml:9:9: 'members'[1] lacks required key 'type'"]],
  ['missing-required-key-masked', ["missing.yaml:10:15: 'type' must be a string, not 5", "missing.yaml:11:9: 'members'[1] lacks required key 'type'"]],
  // What the emitters would otherwise fail on, after loading
  ['typescript-name-collision', [/^names\.yaml:(7|10):5: .*\bColourName\b/]],
  [
    'attribute-struct-needs-family',
    ["family.yaml:24:17: attribute 'local' carries struct 'endpoint', whose inet-address members need an address family (give the struct an address-family member)"],
  ],
];

describe('loader problems: file:line:column: message', () => {
  it('every fixture folder has a case', () => {
    const folders = new Set(listFiles(BAD).map((f) => f.split('/')[0]!));
    expect([...folders].sort()).toEqual(cases.map(([f]) => f).sort());
  });

  it.each(cases)('%s', (fixture, expected) => {
    expect(problems(fixture)).toEqual(expected.map((e) => (typeof e === 'string' ? e : expect.stringMatching(e))));
  });

  it('SchemaError carries structured problems and a message of all problem lines', () => {
    let error: unknown;
    try {
      loadSchema(join(BAD, 'undefined-attribute-refs'));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SchemaError);
    const e = error as SchemaError;
    expect(e.name).toBe('SchemaError');
    expect(e.problems[0]!.place).toEqual({ file: 'ref.yaml', line: 17, column: 17 });
    expect(e.problems[0]!.message).toBe("undefined struct 'missing-info'");
    expect(e.message).toBe(e.problems.map(String).join('\n'));
  });

  it('loadSchemaFiles reports the same problems for in-memory texts, under the names given', () => {
    const text = readFileSync(join(BAD, 'offset-misaligned/layout.yaml'), 'utf8');
    expect(() => loadSchemaFiles([{ file: 'somewhere/else.yaml', text }])).toThrow(
      "somewhere/else.yaml:11:17: member 'second' at offset 6 is misaligned for u32 (needs a multiple of 4)",
    );
  });

  it('a problem in one file does not hide the problems of another', () => {
    const read = (f: string) => ({ file: f.replace('/', '-'), text: readFileSync(join(BAD, f), 'utf8') });
    let error: SchemaError | undefined;
    try {
      loadSchemaFiles([read('unknown-key-top/top.yaml'), read('wrong-type-int/int.yaml')]);
    } catch (e) {
      error = e as SchemaError;
    }
    expect(error?.problems.map((p) => `${p.place.file}:${p.place.line}`)).toEqual(['unknown-key-top-top.yaml:3', 'wrong-type-int-int.yaml:6']);
  });
});

describe('loader model details', () => {
  const load = (body: string) => loadSchemaFiles([{ file: 'f.yaml', text: `name: f\ndoc: A file.\ndefinitions:\n${body}` }]);

  it('flags after an explicit 0 ("none") entry count on from value-start', () => {
    const s = load(['  - name: opts', '    type: flags', '    entries:', '      - {name: none, value: 0}', '      - first', '      - second', ''].join('\n'));
    expect(s.enums.get('opts')!.entries.map((e) => [e.name, e.value])).toEqual([['none', 0], ['first', 1], ['second', 2]]);
  });

  it('flags after an explicit mask go on above its lowest bit', () => {
    const s = load(['  - name: opts', '    type: flags', '    value-start: 8', '    entries: [root, {name: both, value: 0x300}, atomic]', ''].join('\n'));
    expect(s.enums.get('opts')!.entries.map((e) => e.value)).toEqual([0x100, 0x300, 0x200]);
  });

  it('lays out bit fields as GCC does (README example)', () => {
    const s = load(
      ['  - name: info', '    type: struct', '    members:', '      - {name: opts, type: u8}', '      - {name: snd, type: u8, bits: 4}', '      - {name: rcv, type: u8, bits: 4}', '      - {name: rto, type: u32}', ''].join('\n'),
    );
    const info = s.structs.get('info')!;
    expect(info.members.map((m) => [m.name, m.offset, m.bits])).toEqual([
      ['opts', 0, undefined],
      ['snd', 1, { width: 4, shift: 0 }],
      ['rcv', 1, { width: 4, shift: 4 }],
      ['rto', 4, undefined],
    ]);
    expect(info.size).toBe(8);
  });
});

describe('npm run generate with a bad schema', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'sockdiag-gen-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const tsx = join(REPO, 'node_modules/.bin/tsx');
  const run = (schemaDir: string, outDir: string) =>
    spawnSync(tsx, ['generator/main.ts', '--schema', schemaDir, '--out', outDir], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });

  it.each([
    ['undefined-attribute-refs', 3],
    ['yaml-syntax', 1],
    ['duplicate-definition-files', 1],
  ])('%s: exits non-zero, prints the problems, creates no out folder', (fixture, count) => {
    const out = join(tmp, `${fixture}-new`);
    const r = run(join(BAD, fixture), out);
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines.slice(0, -1)).toEqual(problems(fixture));
    expect(lines.at(-1)).toBe(`${count} problem(s) in the schema; nothing was written.`);
    expect(r.stdout).toBe('');
    expect(listFiles(out)).toEqual([]);
  });

  it('leaves an existing out folder exactly as it was', () => {
    const out = join(tmp, 'existing');
    mkdirSync(join(out, 'reference'), { recursive: true });
    mkdirSync(join(out, 'docs'), { recursive: true });
    writeFileSync(join(out, 'old.ts'), 'export const old = 1;\n');
    writeFileSync(join(out, 'reference/old.ts'), 'export {};\n');
    writeFileSync(join(out, 'docs/old.md'), '# old\n');
    const r = run(join(BAD, 'offset-overlap'), out);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("layout.yaml:11:17: member 'second' at offset 2 overlaps the member before it (which ends at 4)");
    expect(listFiles(out)).toEqual(['docs/old.md', 'old.ts', 'reference/old.ts']);
    expect(readFileSync(join(out, 'old.ts'), 'utf8')).toBe('export const old = 1;\n');
  });

  it('a schema the emitters cannot use (no netlink constants) also exits non-zero and writes nothing', () => {
    // Loads fine, but the attribute emitter needs nla-hdrlen & co. from netlink.yaml.
    const schemaDir = join(tmp, 'no-netlink');
    mkdirSync(schemaDir);
    writeFileSync(
      join(schemaDir, 'lonely.yaml'),
      ['name: lonely', 'doc: Attributes without netlink.yaml.', 'attribute-sets:', '  - name: lonely-attrs', '    attributes:', '      - name: one', '        type: u32', ''].join('\n'),
    );
    const out = join(tmp, 'no-netlink-out');
    const r = run(schemaDir, out);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("the generator needs the const 'nla-hdrlen' in the schema");
    expect(listFiles(out)).toEqual([]);
  });
});
