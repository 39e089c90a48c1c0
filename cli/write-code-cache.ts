/**
 * Writes dist/bin/command.cache, the code cache the launcher gives V8 (./code-cache.ts):
 * runs the listings most starts run (TCP with and without -i, every table, JSON) in
 * this process, with their output thrown away, and keeps the bytecode V8 made.
 * A listing that fails here (no sock_diag in a build sandbox) leaves its functions out
 * of the cache, nothing more. Run by `npm run bundle`.
 */
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandFiles, loadBundle } from './code-cache.js';
import type { Output, run } from './main.js';

/** The argument lists run to warm the cache. */
const WARM_UP = [[], ['-tan'], ['-tin'], ['-tin', '--json']];

const { bundle, cache } = commandFiles(join(dirname(fileURLToPath(import.meta.url)), '../bin'));
// Without a cache, so that V8 makes its own bytecode rather than reading an old cache's.
const loaded = loadBundle(bundle);
// The bundle's own Output, so that its write path is among what the cache keeps.
const command = loaded.exports as { run: typeof run; Output: typeof Output };
const devNull = openSync('/dev/null', 'w');
try {
  for (const args of WARM_UP) {
    try {
      await command.run(args, new command.Output(devNull, '/dev/null'), () => {});
    } catch {
      // Not in the cache, then: V8 compiles it when a user runs it.
    }
  }
} finally {
  closeSync(devNull);
}
writeFileSync(cache, loaded.script.createCachedData());
