/**
 * Writes the code cache the launcher gives V8 (./code-cache.ts), dist/bin/command.cache:
 * runs the listings most starts run (the default, TCP with and without -i, JSON) in
 * this process, with their output thrown away, and keeps the bytecode V8 made.
 * A listing that fails here (no sock_diag in a build sandbox) leaves its functions out
 * of the cache; a bundle that cannot load here (koffi refusing this machine) leaves no
 * cache. Neither fails the build: the command then compiles at each start, as without.
 * Run by `npm run bundle`; the argument, if any, is the folder of the bin.
 */
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandFiles, loadBundle, type LoadedBundle } from './code-cache.js';
import type { Output, run } from './main.js';

/** The argument lists run to warm the cache. */
const WARM_UP = [[], ['-tan'], ['-tin'], ['-tin', '--json']];

/** Runs the warm-up listings on the bundle's own `run` and `Output`, so that its write path is among what the cache keeps. */
async function warmUp(command: { run: typeof run; Output: typeof Output }): Promise<void> {
  const devNull = openSync('/dev/null', 'w');
  try {
    for (const args of WARM_UP) {
      // A listing that throws is left out of the cache: V8 compiles it when a user runs it.
      await command.run(args, new command.Output(devNull, '/dev/null'), () => {}).catch(() => {});
    }
  } finally {
    closeSync(devNull);
  }
}

const { bundle, cache } = commandFiles(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '../bin'));
let loaded: LoadedBundle | undefined;
try {
  // Without a cache, so that V8 makes its own bytecode rather than reading an old cache's.
  loaded = loadBundle(bundle);
} catch (e) {
  process.stderr.write(`write-code-cache: no code cache, the command's bundle does not load here: ${(e as Error).message}\n`);
}
if (loaded) {
  await warmUp(loaded.exports as { run: typeof run; Output: typeof Output });
  writeFileSync(cache, loaded.script.createCachedData());
}
