/**
 * The generator is a pure function of the schema: two runs give byte-identical files,
 * wherever the schema and the output live; and generated/ in the repository is exactly
 * what the generator makes of schema/ now (the staleness check: run `npm run generate`
 * and commit the result when it fails).
 */
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../../generator/main.js';
import { copySchema, GENERATED_DIR, listFiles, osTempDir, projectTempDir, readTree, removeProjectTempDir, SCHEMA_DIR, typecheck } from '../helpers/generation.js';

const tmp = osTempDir('sockdiag-determinism-');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// A snapshot of schema/, so that edits made while the tests run do not count as nondeterminism.
const snapshot = join(tmp, 'schema');
let first: Map<string, string>;
let written: string[];
beforeAll(() => {
  mkdirSync(snapshot);
  copySchema(SCHEMA_DIR, snapshot);
  written = generate(snapshot, join(tmp, 'a'));
  first = readTree(join(tmp, 'a'));
}, 120_000);

/** Which files differ between two trees, for a readable failure. */
function differences(want: Map<string, string>, got: Map<string, string>): string[] {
  const names = [...new Set([...want.keys(), ...got.keys()])].sort();
  return names.flatMap((n) => {
    if (!got.has(n)) return [`${n}: missing`];
    if (!want.has(n)) return [`${n}: not expected`];
    if (got.get(n) === want.get(n)) return [];
    const a = want.get(n)!.split('\n');
    const b = got.get(n)!.split('\n');
    const line = a.findIndex((l, i) => l !== b[i]);
    return [`${n}: differs from line ${line + 1}: expected ${JSON.stringify(a[line])}, got ${JSON.stringify(b[line])}`];
  });
}

describe('determinism', () => {
  it('writes a module, a reference module and a doc page per schema file, plus the indexes', () => {
    expect([...first.keys()]).toEqual([...written].sort());
    expect(first.has('index.ts')).toBe(true);
    expect(first.has('docs/README.md')).toBe(true);
    for (const f of listFiles(snapshot).filter((x) => x.endsWith('.yaml'))) {
      const m = f.replace(/\.yaml$/, '');
      expect([...first.keys()]).toEqual(expect.arrayContaining([`${m}.ts`, `reference/${m}.ts`, `docs/${m}.md`]));
    }
  });

  it('a second run, from a copy of the schema elsewhere into another folder, gives byte-identical output', () => {
    const elsewhere = join(tmp, 'deep/er/schema-copy');
    mkdirSync(elsewhere, { recursive: true });
    copySchema(snapshot, elsewhere);
    generate(elsewhere, join(tmp, 'c/d/e'));
    expect(differences(first, readTree(join(tmp, 'c/d/e')))).toEqual([]);
    for (const [name, text] of first) {
      expect(text, name).not.toContain(tmp);
      expect(text, name).not.toContain(SCHEMA_DIR);
    }
  }, 60_000);

  it('regenerating over an old output removes the files of schema files that are gone', () => {
    const out = join(tmp, 'f');
    cpSync(join(tmp, 'a'), out, { recursive: true });
    writeFileSync(join(out, 'gone.ts'), '// from a removed schema file\n');
    writeFileSync(join(out, 'reference/gone.ts'), '\n');
    writeFileSync(join(out, 'docs/gone.md'), '\n');
    generate(snapshot, out);
    expect(differences(first, readTree(out))).toEqual([]);
  }, 60_000);

  it('the generated code type-checks under the strict tsconfig', () => {
    const dir = projectTempDir('tsc');
    try {
      cpSync(join(tmp, 'a'), dir, { recursive: true });
      const tsc = typecheck(dir);
      const modules = [...first.keys()].filter((f) => f.endsWith('.ts'));
      expect(tsc.files).toEqual(expect.arrayContaining(modules));
      expect(tsc.output).toBe('');
      expect(tsc.status).toBe(0);
    } finally {
      removeProjectTempDir(dir);
    }
  }, 120_000);

  it('generated/ is up to date with schema/ and the generator (else run `npm run generate`)', () => {
    // The snapshot's output, unless schema/ changed since the snapshot.
    const unchanged = differences(readTree(snapshot), readTree(SCHEMA_DIR)).length === 0;
    const fresh = join(tmp, 'now');
    if (!unchanged) generate(SCHEMA_DIR, fresh);
    expect(differences(unchanged ? first : readTree(fresh), readTree(GENERATED_DIR))).toEqual([]);
  }, 60_000);
});
