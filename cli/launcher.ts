/**
 * The `sockdiag` bin (dist/bin/sockdiag.cjs): loads the command's bundle with its
 * code cache (./code-cache.ts) and runs it. The sh lines above it in the bin
 * (cli/bundle-head.js) start node.
 */
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandFiles, loadBundle } from './code-cache.js';
import type { run } from './main.js';

const { bundle, cache } = commandFiles(dirname(fileURLToPath(import.meta.url)));
const command = loadBundle(bundle, cache).exports as { run: typeof run };
void command.run(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
