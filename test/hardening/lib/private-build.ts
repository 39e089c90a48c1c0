/**
 * A private build of the package for tests that run it as another user or as the
 * `sockdiag` command: `tsc -p tsconfig.build.json` into a new temporary folder
 * readable by everyone (with the package.json and cli/bundle-head.js, and node_modules
 * linked), then the command's bundle (`npm run bundle` there), so that
 * `nobody` can import it wherever the checkout lives, and so that a concurrent
 * `npm run build` of dist/ cannot change the code under test half-way.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from '../../fuzz/core.js';
import { binPath } from '../../helpers/bin-path.js';

export const AS_NOBODY = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'] as const;

export interface PrivateBuild {
  dir: string;
  /** dist/query/index.js: the library as `import 'sockdiag'` gives it. */
  library: string;
  /** The `sockdiag` command in dist/bin, as bundled for its users. */
  bin: string;
  /** tsc's output when it reported errors (it still emits). */
  warnings: string;
  cleanup(): void;
}

function chmodAll(path: string): void {
  const st = statSync(path);
  chmodSync(path, st.isDirectory() ? 0o755 : 0o644);
  if (st.isDirectory()) for (const f of readdirSync(path)) chmodAll(join(path, f));
}

export function privateBuild(label: string): PrivateBuild {
  const dir = mkdtempSync(join(tmpdir(), `sockdiag-hardening-${label}-`));
  const tsc = spawnSync(join(REPO, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json', '--outDir', join(dir, 'dist')], { cwd: REPO, encoding: 'utf8', timeout: 180_000 });
  const library = join(dir, 'dist/query/index.js');
  if (!existsSync(join(dir, 'dist/cli/main.js')) || !existsSync(library)) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`tsc emitted no dist/cli/main.js:\n${tsc.stdout}${tsc.stderr}`);
  }
  copyFileSync(join(REPO, 'package.json'), join(dir, 'package.json'));
  // The bundle starts with the command's launcher (package.json, "bundle:command").
  mkdirSync(join(dir, 'cli'));
  copyFileSync(join(REPO, 'cli/bundle-head.js'), join(dir, 'cli/bundle-head.js'));
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  const bundle = spawnSync('npm', ['run', '-s', 'bundle'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  const bin = binPath(dir);
  if (bundle.status !== 0 || !existsSync(bin)) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`npm run bundle failed:\n${bundle.stdout}${bundle.stderr}`);
  }
  chmodAll(join(dir, 'dist'));
  chmodSync(join(dir, 'package.json'), 0o644);
  chmodSync(dir, 0o755);
  return { dir, library, bin, warnings: tsc.status === 0 ? '' : `${tsc.stdout}${tsc.stderr}`, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Why `nobody` cannot use the build (a path it cannot read, no setpriv), or undefined when it can. */
export function nobodyCannotRead(build: PrivateBuild): string | undefined {
  const check = `for (const p of ${JSON.stringify([build.library, build.bin, join(build.dir, 'package.json'), join(REPO, 'node_modules/koffi/package.json')])}) require('fs').accessSync(p, require('fs').constants.R_OK)`;
  const r = spawnSync(AS_NOBODY[0], [...AS_NOBODY.slice(1), process.execPath, '-e', check], { encoding: 'utf8', timeout: 30_000 });
  if (r.error) return `cannot run setpriv: ${r.error.message}`;
  if (r.status !== 0) {
    const namei = spawnSync('namei', ['-l', REPO], { encoding: 'utf8' }).stdout;
    return `nobody cannot read the build or node_modules: ${r.stderr.trim().split('\n').at(-1)}\n${namei}`;
  }
  return undefined;
}
