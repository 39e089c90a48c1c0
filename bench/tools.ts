/**
 * Shared pieces of the benchmark: paths, compiling the C helpers, and cleanup that
 * runs on every way out of the process (normal exit, an error, SIGINT/SIGTERM/SIGHUP).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const ROOT = dirname(BENCH_DIR);

type Cleanup = () => void;
const cleanups: Cleanup[] = [];
let installed = false;
let cleaning = false;

/** Runs the registered cleanups, newest first, each at most once; safe to call again. */
export function cleanupNow(): void {
  if (cleaning) return;
  cleaning = true;
  try {
    while (cleanups.length > 0) {
      const fn = cleanups.pop()!;
      try {
        fn();
      } catch (e) {
        process.stderr.write(`bench: cleanup failed: ${(e as Error).message}\n`);
      }
    }
  } finally {
    cleaning = false;
  }
}

/** Registers a synchronous cleanup; returns a function that runs it now and unregisters it. */
export function onCleanup(fn: Cleanup): () => void {
  installHandlers();
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    fn();
  };
  cleanups.push(once);
  return () => {
    const i = cleanups.indexOf(once);
    if (i >= 0) cleanups.splice(i, 1);
    once();
  };
}

function installHandlers(): void {
  if (installed) return;
  installed = true;
  process.on('exit', cleanupNow);
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    process.on(signal, () => {
      process.stderr.write(`\nbench: ${signal}, cleaning up\n`);
      cleanupNow();
      process.exit(code);
    });
  }
  const fatal = (e: unknown) => {
    process.stderr.write(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    cleanupNow();
    process.exit(1);
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
}

/** Runs a command to completion; throws with its stderr when it fails. */
export function sh(cmd: string, args: readonly string[], timeoutMs = 120_000): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}: ${(r.stderr ?? '').trim()}`);
  return r.stdout;
}

let binDir: string | undefined;

/** A temporary directory named after this process, removed at exit (and by a later run if this one is killed). */
export function tempDir(kind: string): string {
  const dir = mkdtempSync(join(tmpdir(), `sockdiag-bench-${kind}-${process.pid}-`));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Removes temporary directories of earlier runs whose process is gone. */
export function removeStaleTempDirs(): void {
  for (const name of readdirSync(tmpdir())) {
    const m = /^sockdiag-bench-[a-z]+-(\d+)-/.exec(name);
    if (m && !alive(Number(m[1]))) rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}

/**
 * Compiles bench/NAME.c with gcc (against the installed kernel headers) into a
 * temporary directory removed at exit; returns the executable's path.
 */
export function compile(name: 'holder' | 'baseline' | 'timeit'): string {
  binDir ??= tempDir('bin');
  const out = join(binDir, name);
  sh('gcc', ['-O2', '-Wall', '-Wextra', '-o', out, join(BENCH_DIR, `${name}.c`)]);
  return out;
}

/** Whether a process with this id exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
