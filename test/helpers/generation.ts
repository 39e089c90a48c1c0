/**
 * Fresh generations of the schema for tests, written into a temporary folder at the
 * top of the project (`<repo>/.tmp-gen-*`), so that the generated imports
 * (`../runtime/codec.js`, `'restructure'`) resolve exactly as they do from generated/.
 *
 * The property tests run against a fresh generation of schema/ rather than against
 * generated/: they test what the generator makes of the schema as it is now, and the
 * staleness test (determinism.test.ts) separately checks that generated/ is that same
 * output. Set SOCKDIAG_TEST_GENERATED=repo to run them against generated/ instead.
 */
import { afterAll, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generate } from '../../generator/main.js';
import { loadSchema } from '../../generator/load.js';
import type { Schema } from '../../generator/model.js';

/** The project root. */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SCHEMA_DIR = join(REPO, 'schema');
export const GENERATED_DIR = join(REPO, 'generated');

/** A new, empty folder `<repo>/.tmp-gen-<label>-<pid>-XXXXXX` (one level below the root, like generated/). */
export function projectTempDir(label: string): string {
  return mkdtempSync(join(REPO, `.tmp-gen-${label}-${process.pid}-`));
}

/** Removes a folder made by {@link projectTempDir} (refuses anything else). */
export function removeProjectTempDir(dir: string): void {
  const rel = relative(REPO, dir);
  if (!/^\.tmp-gen-[^/]+$/.test(rel)) throw new Error(`refusing to remove ${dir}`);
  rmSync(dir, { recursive: true, force: true });
}

/** Copies a schema folder (only its .yaml files and README) to a new temporary folder. */
export function copySchema(from: string, to: string): void {
  cpSync(from, to, { recursive: true, filter: (src) => statSync(src).isDirectory() || /\.(ya?ml|md)$/.test(src) });
}

export type Module = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface Generation {
  /** Folder holding `<module>.ts` and `reference/<module>.ts`. */
  dir: string;
  schema: Schema;
  /** The fast module `generated/<module>.ts`. */
  module(name: string): Promise<Module>;
  /** The restructure module `generated/reference/<module>.ts`. */
  reference(name: string): Promise<Module>;
  /** Removes the temporary folder (nothing for generated/). */
  cleanup(): void;
}

export const importTs = (file: string): Promise<Module> => import(pathToFileURL(file).href);

/**
 * A copy of schema/ in a temporary folder, so that a test file's model (read when the
 * tests are collected) and its generated code (made in beforeAll) come from the same
 * schema even while someone edits schema/. Remove it with {@link removeSnapshot}.
 */
export function schemaSnapshot(): string {
  const dir = osTempDir('sockdiag-schema-');
  copySchema(SCHEMA_DIR, dir);
  return dir;
}

/**
 * A new folder under the OS temporary folder, also removed when the process exits (a
 * folder made while tests are collected outlives a run that filters its tests out, as
 * vitest then skips the afterAll hooks).
 */
export function osTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function removeSnapshot(dir: string): void {
  if (!relative(tmpdir(), dir).startsWith('sockdiag-schema-')) throw new Error(`refusing to remove ${dir}`);
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Generates `schemaDir` into a new project-local temporary folder and returns a handle to
 * it. With `real` (the schema is a snapshot of schema/) and SOCKDIAG_TEST_GENERATED=repo,
 * the handle is to generated/ instead.
 */
export function freshGeneration(label: string, schemaDir = SCHEMA_DIR, real = schemaDir === SCHEMA_DIR): Generation {
  if (process.env.SOCKDIAG_TEST_GENERATED === 'repo' && real) {
    return handle(GENERATED_DIR, loadSchema(SCHEMA_DIR), () => {});
  }
  const dir = projectTempDir(label);
  try {
    generate(schemaDir, dir);
  } catch (e) {
    removeProjectTempDir(dir);
    throw e;
  }
  return handle(dir, loadSchema(schemaDir), () => removeProjectTempDir(dir));
}

function handle(dir: string, schema: Schema, cleanup: () => void): Generation {
  return {
    dir,
    schema,
    module: (name) => importTs(join(dir, `${name}.ts`)),
    reference: (name) => importTs(join(dir, 'reference', `${name}.ts`)),
    cleanup,
  };
}

/** Every file below `dir`, as sorted relative paths. */
export function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const f of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, f.name);
      if (f.isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

/** File name → contents for every file below `dir`. */
export function readTree(dir: string): Map<string, string> {
  return new Map(listFiles(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
}

/**
 * Type-checks a generated folder inside the project (with the project's strict
 * tsconfig) and returns tsc's output and status. Also returns the files tsc checked, so
 * a test can make sure the generated modules were part of the program.
 */
export function typecheck(dir: string): { status: number | null; output: string; files: string[] } {
  const rel = relative(REPO, dir);
  if (rel.startsWith('..') || rel.includes('/')) throw new Error(`typecheck wants a folder at the project root, not ${dir}`);
  // `include: ["."]` matches nothing under tsc 7 for a dot-folder: list the globs.
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ extends: '../tsconfig.json', compilerOptions: { noEmit: true, rootDir: '..' }, include: ['*.ts', 'reference/*.ts', '../test/restructure.d.ts'] }),
  );
  const tsc = join(REPO, 'node_modules/.bin/tsc');
  const opts = { cwd: REPO, encoding: 'utf8' as const, timeout: 120_000 };
  const list = spawnSync(tsc, ['-p', join(dir, 'tsconfig.json'), '--listFilesOnly'], opts);
  const run = spawnSync(tsc, ['-p', join(dir, 'tsconfig.json')], opts);
  return { status: run.status, output: run.stdout + run.stderr, files: list.stdout.split('\n').filter(Boolean).map((f) => relative(dir, f)) };
}

/** The generated modules of a snapshot of schema/, made in beforeAll and removed in afterAll. */
export interface SnapshotModules {
  /** The snapshot's model, read when the tests are collected. */
  schema: Schema;
  /** Fast modules by schema module name (filled in beforeAll). */
  modules: Map<string, Module>;
  /** Reference (restructure) modules by schema module name, when asked for. */
  references: Map<string, Module>;
  /** The folder the modules were generated into (set in beforeAll). */
  dir: string;
}

/**
 * Registers the usual set-up of a generator test file: a schema snapshot, a fresh
 * generation of it in beforeAll (unless `skip()` says so), its modules imported, and
 * everything removed in afterAll.
 */
export function snapshotModules(label: string, options: { references?: boolean; skip?: () => boolean } = {}): SnapshotModules {
  const snapshot = schemaSnapshot();
  const out: SnapshotModules = { schema: loadSchema(snapshot), modules: new Map(), references: new Map(), dir: '' };
  let gen: Generation | undefined;
  beforeAll(async () => {
    if (options.skip?.()) return;
    gen = freshGeneration(label, snapshot, true);
    out.dir = gen.dir;
    for (const f of out.schema.files) {
      out.modules.set(f.module, await gen.module(f.module));
      if (options.references) out.references.set(f.module, await gen.reference(f.module));
    }
  }, 120_000);
  afterAll(() => {
    gen?.cleanup();
    removeSnapshot(snapshot);
  });
  return out;
}
