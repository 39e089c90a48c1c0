/**
 * C helper programs of the hardening tests, compiled on demand with gcc into a
 * temporary folder: test/hardening/lib/churn.c, and bench/holder.c (the benchmark's
 * socket holder, reused as it is).
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO } from '../../fuzz/core.js';

/** Why C helpers cannot be built here, or undefined. */
export const gccMissing: string | undefined = (() => {
  const r = spawnSync('gcc', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : 'needs gcc to build the C socket helpers';
})();

const built = new Map<string, string>();
let dir: string | undefined;

/** Compiles `source` (a path under the repository) once per process; returns the executable. */
export function compileC(source: string): string {
  const cached = built.get(source);
  if (cached) return cached;
  dir ??= mkdtempSync(join(tmpdir(), 'sockdiag-hardening-c-'));
  const out = join(dir, source.replace(/[^a-z0-9]+/gi, '-'));
  const r = spawnSync('gcc', ['-O2', '-Wall', '-o', out, join(REPO, source)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`gcc ${source} failed:\n${r.stderr}`);
  built.set(source, out);
  return out;
}

/** Removes the compiled helpers. */
export function removeCompiled(): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
  built.clear();
}

/** A helper running inside a namespace (`ip netns exec`), ready once it printed `ready`. */
export interface Helper {
  child: ChildProcessWithoutNullStreams;
  /** Lines it printed after `ready`. */
  lines: string[];
  /** Closes its stdin (the helpers' signal to end) and waits; kills it after `ms`. */
  stop(ms?: number): Promise<void>;
}

export async function startHelper(netns: string, program: string, args: readonly string[], readyMs = 180_000): Promise<Helper> {
  const child = spawn('ip', ['netns', 'exec', netns, program, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines: string[] = [];
  const rl = createInterface({ input: child.stdout });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${program} not ready after ${readyMs} ms: ${stderr}`)), readyMs);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`${program} ${args.join(' ')} exited (${code}) before it was ready: ${stderr.trim()}`));
    };
    child.once('exit', onExit);
    rl.on('line', (line) => {
      if (line.startsWith('ready')) {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve();
      } else lines.push(line);
    });
  });
  return {
    child,
    lines,
    stop: async (ms = 5000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), ms);
      await exited;
      clearTimeout(timer);
    },
  };
}
