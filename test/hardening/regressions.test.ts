/**
 * Crash fixtures: every input the fuzz (or a person) found that once broke a decoder
 * is kept as a named file in test/fixtures/regressions/ and replayed here through the
 * fuzz oracle (test/fuzz/core.ts): exactly sized and at odd offsets in garbage, it must
 * decode or throw an allowed, typed error (`expect` in the file, when given, names
 * which). `npm run fuzz -- --save` writes new ones as fuzz-*.json.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { caseFromJson, loadFuzz, REPO, runCase, type CaseJson, type Fuzz } from '../fuzz/core.js';

interface Fixture {
  name: string;
  description: string;
  found?: string;
  fixed?: string;
  expect?: 'decoded' | 'DecodeError' | 'NetlinkError';
  case: CaseJson;
}

const DIR = join(REPO, 'test/fixtures/regressions');
const fixtures = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => [f, JSON.parse(readFileSync(join(DIR, f), 'utf8')) as Fixture] as const);

let fz: Fuzz;
beforeAll(async () => {
  fz = await loadFuzz();
});

describe('regression fixtures (test/fixtures/regressions)', () => {
  it('there are some, each named after its file and described', () => {
    expect(fixtures.length).toBeGreaterThan(0);
    for (const [file, f] of fixtures) {
      expect(f.name, file).toBe(file.replace(/\.json$/, ''));
      expect(f.description.length, file).toBeGreaterThan(20);
    }
  });

  it.each(fixtures)('%s', (_file, f) => {
    const v = runCase(fz, caseFromJson(f.case), { slowMs: 1000 });
    if (!v.ok) throw new Error(`${f.name}: ${v.reason}\n${f.description}`);
    if (f.expect) expect(v.outcome).toBe(f.expect);
  });
});
