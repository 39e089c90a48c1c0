/**
 * vitest globalSetup: builds the command (`npm run build`, into dist/) when a source is
 * newer than the last build, so that the CLI tests in test/cli run the bin a user
 * runs, as it is now; and removes network namespaces that crashed CLI test runs left
 * behind (`sockdiag-cli-<pid>-*` whose process is gone).
 *
 * The build is skipped when dist/ is fresh: tsc rewrites every file of dist/, and a
 * second test run started meanwhile would otherwise run a half-written bin.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { binPath } from './bin-path.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** What tsconfig.build.json compiles. */
const SOURCES = ['generated', 'runtime', 'query', 'cli', 'examples'];

export default function setup(): void {
  if (!fresh()) build();
  removeStaleNamespaces();
}

function build(): void {
  try {
    execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'pipe', encoding: 'utf8' });
  } catch (e) {
    // tsc still emits on type errors; the CLI tests run what it emitted.
    const out = e as { stdout?: string; stderr?: string };
    process.stderr.write(`cli-global-setup: npm run build failed; the CLI tests run the emitted dist/ anyway\n${out.stdout ?? ''}${out.stderr ?? ''}\n`);
  }
}

/** Whether the command's bundle (dist/bin, built last) is newer than every source file and the tsconfigs. */
function fresh(): boolean {
  const bin = binPath(ROOT);
  if (!existsSync(bin)) return false;
  const built = statSync(bin).mtimeMs;
  const newest = (path: string): number => {
    const st = statSync(path);
    if (!st.isDirectory()) return st.mtimeMs;
    // generated/reference is not built (tsconfig.build.json excludes it).
    return Math.max(st.mtimeMs, ...readdirSync(path).filter((e) => join(path, e) !== join(ROOT, 'generated/reference')).map((e) => newest(join(path, e))));
  };
  const inputs = [...SOURCES.map((d) => join(ROOT, d)), join(ROOT, 'tsconfig.json'), join(ROOT, 'tsconfig.build.json'), join(ROOT, 'package.json')].filter(existsSync);
  return inputs.every((p) => newest(p) < built);
}

function removeStaleNamespaces(): void {
  if (!existsSync('/run/netns')) return;
  for (const name of readdirSync('/run/netns')) {
    const m = /^sockdiag-cli-(\d+)-/.exec(name);
    if (!m || existsSync(`/proc/${m[1]}`)) continue;
    try {
      execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
    } catch {
      // Someone else removed it.
    }
  }
}
