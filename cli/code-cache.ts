/**
 * Loads the command's bundle (dist/bin/command.cjs) with V8's code cache.
 *
 * Compiling the 440 KB bundle, and then each function the first time it runs, costs
 * about 14 ms of every start. `npm run build` runs a few listings in process and keeps
 * the bytecode V8 made for them in dist/bin/command.cache (cli/write-code-cache.ts);
 * the launcher hands it back to V8 here. V8 checks that the cache was made by the same
 * V8, with the same flags, for a source of the same length, and compiles as usual when
 * it was not (another node, NODE_OPTIONS with V8 flags, no cache file). The length is
 * all V8 checks of the source, so the build removes the old cache before it writes the
 * bundle: a build stopped half-way leaves no cache rather than one of another bundle.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Script } from 'node:vm';

/** The bundle, compiled and run as a CommonJS module. */
export interface LoadedBundle {
  /** The compiled script: `createCachedData()` gives what V8 has compiled of it so far. */
  script: Script;
  /** What the cache file held, if it could be read. */
  cacheBytes: number;
  /** Whether V8 refused the cache (made by another V8, with other flags, or for another source). */
  cacheRejected: boolean;
  /** The module's exports. */
  exports: unknown;
}

/** CommonJS's module wrapper, as node's loader puts it around a file. */
const wrap = (source: string) => `(function (exports, require, module, __filename, __dirname) { ${source}\n});`;

/** Compiles `bundle` (a CommonJS file), with the code cache in `cache` when there is one, and runs it. */
export function loadBundle(bundle: string, cache?: string): LoadedBundle {
  let cachedData: Buffer | undefined;
  try {
    if (cache !== undefined) cachedData = readFileSync(cache);
  } catch {
    // No cache (a build that did not write one): V8 compiles as it would without.
  }
  const script = new Script(wrap(readFileSync(bundle, 'utf8')), { filename: bundle, cachedData });
  const module = { exports: {} };
  const run = script.runInThisContext() as (exports: object, require: NodeJS.Require, module: object, filename: string, dirname: string) => void;
  run.call(module.exports, module.exports, createRequire(bundle), module, bundle, dirname(bundle));
  return { script, cacheBytes: cachedData?.length ?? 0, cacheRejected: script.cachedDataRejected === true, exports: module.exports };
}

/** Where the command's bundle and its code cache sit beside the launcher (dist/bin). */
export function commandFiles(binDir: string): { bundle: string; cache: string } {
  return { bundle: `${binDir}/command.cjs`, cache: `${binDir}/command.cache` };
}
