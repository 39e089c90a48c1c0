/**
 * The point of generating from a schema: adding an attribute to schema/*.yaml is all it
 * takes to decode it. A copy of schema/ gets a new u32 attribute in an attribute set;
 * the regenerated module decodes it into a typed field, the original code keeps it in
 * `unknown`, and the regenerated code type-checks.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Project } from 'ts-morph';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isMap, isSeq, parseDocument, type YAMLMap, type YAMLSeq } from 'yaml';
import { loadSchema } from '../../generator/load.js';
import { generate } from '../../generator/main.js';
import { copySchema, freshGeneration, importTs, osTempDir, projectTempDir, removeProjectTempDir, removeSnapshot, schemaSnapshot, typecheck, type Generation, type Module } from '../helpers/generation.js';
import { concat, rawAttr } from '../helpers/model-values.js';

const snapshot = schemaSnapshot();
const schema = loadSchema(snapshot);
// The reply attributes of inet_diag when they exist, else whichever set comes first.
const target = schema.sets.get('inet-diag-attrs') ?? [...schema.sets.values()][0]!;
const module = schema.owner.get(target.name)!.module;
const file = schema.owner.get(target.name)!.file;
const used = new Set(target.attributes.map((a) => a.value));
const NEW_ID = used.has(60) ? Math.max(...used) + 1 : 60;
const decodeName = `decode${target.tsName}`;
const encodeName = `encode${target.tsName}`;

const schemaCopy = osTempDir('sockdiag-new-attr-');
let outDir: string;
let baseline: Generation;
let original: Module;
let updated: Module;

beforeAll(async () => {
  copySchema(snapshot, schemaCopy);
  const path = join(schemaCopy, file);
  const doc = parseDocument(readFileSync(path, 'utf8'));
  const sets = doc.get('attribute-sets') as YAMLSeq;
  const set = sets.items.find((s) => isMap(s) && s.get('name') === target.name) as YAMLMap;
  const attrs = set.get('attributes');
  if (!isSeq(attrs)) throw new Error('attributes is not a list');
  attrs.add(doc.createNode({ name: 'brand-new', type: 'u32', value: NEW_ID, doc: 'An attribute the kernel added yesterday.' }));
  writeFileSync(path, String(doc));

  outDir = projectTempDir('newattr');
  generate(schemaCopy, outDir);
  updated = await importTs(join(outDir, `${module}.ts`));
  baseline = freshGeneration('newattr-base', snapshot, true);
  original = await baseline.module(module);
}, 120_000);

afterAll(() => {
  rmSync(schemaCopy, { recursive: true, force: true });
  if (outDir) removeProjectTempDir(outDir);
  baseline?.cleanup();
  removeSnapshot(snapshot);
});

const u32 = (v: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, true);
  return b;
};
const decodeWith = (m: Module, bytes: Uint8Array) => m[decodeName](new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0, bytes.length);

describe(`a new attribute in ${target.name} (id ${NEW_ID})`, () => {
  it('the regenerated decoder returns it as a typed field', () => {
    const bytes = concat(rawAttr(NEW_ID, u32(0xdeadbeef)), rawAttr(0x3ffe, [1, 2, 3]));
    expect(decodeWith(updated, bytes)).toEqual({ brandNew: 0xdeadbeef, unknown: [{ type: 0x3ffe, bytes: Uint8Array.of(1, 2, 3) }] });
    expect(updated[`${target.tsName}Type`]['brand-new']).toBe(NEW_ID);
  });

  it('the original decoder keeps it in unknown, bytes intact', () => {
    const bytes = rawAttr(NEW_ID, u32(0xdeadbeef));
    expect(decodeWith(original, bytes)).toEqual({ unknown: [{ type: NEW_ID, bytes: u32(0xdeadbeef) }] });
    expect(original[`${target.tsName}Type`]['brand-new']).toBeUndefined();
  });

  it('the regenerated encoder writes it, and the original code passes it through', () => {
    const bytes = updated[encodeName]({ brandNew: 7 }) as Uint8Array;
    expect(Array.from(bytes)).toEqual(Array.from(rawAttr(NEW_ID, u32(7))));
    const kept = decodeWith(original, bytes);
    expect(kept).toEqual({ unknown: [{ type: NEW_ID, bytes: u32(7) }] });
    expect(decodeWith(updated, original[encodeName](kept) as Uint8Array)).toEqual({ brandNew: 7 });
  });

  it('the interface declares it as an optional number', () => {
    const text = readFileSync(join(outDir, `${module}.ts`), 'utf8');
    const prop = new Project({ useInMemoryFileSystem: true }).createSourceFile('m.ts', text).getInterfaceOrThrow(target.tsName).getPropertyOrThrow('brandNew');
    expect(prop.getText()).toBe('brandNew?: number;');
  });

  it('the regenerated code type-checks, and brandNew is typed number', () => {
    writeFileSync(
      join(outDir, 'use-brand-new.ts'),
      [
        `import { ${decodeName} } from './${module}.js';`,
        `const decoded = ${decodeName}(new DataView(new ArrayBuffer(0)), 0, 0);`,
        'export const n: number | undefined = decoded.brandNew;',
        '// @ts-expect-error brandNew is a number, not a string',
        'export const s: string | undefined = decoded.brandNew;',
        '',
      ].join('\n'),
    );
    const tsc = typecheck(outDir);
    expect(tsc.files).toEqual(expect.arrayContaining([`${module}.ts`, 'use-brand-new.ts', `reference/${module}.ts`]));
    expect(tsc.output).toBe('');
    expect(tsc.status).toBe(0);
  }, 120_000);
});
