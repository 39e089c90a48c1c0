/**
 * `npm run generate`: loads schema/*.yaml, checks it, and writes generated/*.ts,
 * generated/reference/*.ts and generated/docs/*.md. Writes nothing when the schema
 * has a problem. Options: `--schema DIR`, `--out DIR`.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { emitDocs, emitDocsIndex } from './emit-docs.js';
import { banner, emitModule, newProject } from './emit-module.js';
import { ADDRESS_MODULE, emitReference, emitReferenceAddress } from './emit-reference.js';
import { loadSchema } from './load.js';
import { SchemaError } from './yaml-check.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Generates every output file for the schema in `schemaDir` into `outDir`; returns the files written. */
export function generate(schemaDir: string, outDir: string): string[] {
  const schema = loadSchema(schemaDir);
  const project = newProject();
  const outputs = new Map<string, string>();
  for (const file of schema.files) {
    outputs.set(`${file.module}.ts`, emitModule(project, schema, file));
    outputs.set(`reference/${file.module}.ts`, emitReference(project, schema, file));
    outputs.set(`docs/${file.module}.md`, emitDocs(schema, file));
  }
  outputs.set('docs/README.md', emitDocsIndex(schema));
  const address = emitReferenceAddress(schema);
  if (address) outputs.set(`reference/${ADDRESS_MODULE}.ts`, address);
  outputs.set('index.ts', banner('schema/*.yaml') + schema.files.map((f) => `export * from './${f.module}.js';\n`).join(''));
  // Replace the whole output folder so that a removed schema file leaves nothing behind.
  for (const sub of ['', 'reference', 'docs']) {
    const dir = join(outDir, sub);
    mkdirSync(dir, { recursive: true });
    for (const f of readdirSync(dir)) if (/\.(ts|md)$/.test(f)) rmSync(join(dir, f));
  }
  for (const [name, text] of outputs) writeFileSync(join(outDir, name), text);
  return [...outputs.keys()];
}

function main(): void {
  const { values } = parseArgs({ options: { schema: { type: 'string' }, out: { type: 'string' } } });
  const schemaDir = resolve(values.schema ?? join(root, 'schema'));
  const outDir = resolve(values.out ?? join(root, 'generated'));
  try {
    const files = generate(schemaDir, outDir);
    console.log(`generated ${files.length} files in ${outDir}`);
  } catch (e) {
    if (e instanceof SchemaError) {
      console.error(e.message);
      console.error(`${e.problems.length} problem(s) in the schema; nothing was written.`);
      process.exit(1);
    }
    throw e;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
