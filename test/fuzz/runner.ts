/**
 * Runs the decoder fuzz (test/fuzz/core.ts) in worker threads with a watchdog: a
 * worker whose heartbeat stops for `hangMs` is terminated and its current case is
 * reported as a hang; a worker that dies (out of memory, a native crash) is reported
 * with the case it was running. Used by `npm run fuzz` (test/fuzz/run.ts) and by the
 * fixed-seed slice in test/hardening/fuzz.test.ts.
 */
import { Worker } from 'node:worker_threads';
import { CASE_BYTES, HEARTBEAT, PHASE, SHARED_BYTES, type Failure, type FromWorker, type WorkerInput, type WorkerReport } from './protocol.js';
import type { CaseJson } from './core.js';

export interface FuzzOptions {
  cases: number;
  seed: number;
  workers: number;
  /** A case slower than this fails (checked twice). */
  slowMs?: number;
  /** A worker without progress for this long is a hang. */
  hangMs?: number;
  /** fast-check runs per chunk (one seed each). */
  chunk?: number;
  /** Heap limit of each worker thread, in MiB. */
  maxOldGenerationSizeMb?: number;
  onProgress?: (cases: number) => void;
  /** See {@link WorkerInput.selftest}. */
  selftest?: WorkerInput['selftest'];
}

export interface FuzzReport extends Omit<WorkerReport, 'targets' | 'missing'> {
  seed: number;
  workers: number;
  ms: number;
  targets: number;
  missing: string[];
}

const decoder = new TextDecoder();

export async function runFuzz(o: FuzzOptions): Promise<FuzzReport> {
  const started = performance.now();
  const n = Math.max(1, Math.min(o.workers, o.cases));
  const shares = Array.from({ length: n }, (_, i) => Math.floor(o.cases / n) + (i < o.cases % n ? 1 : 0));
  const progress = new Array<number>(n).fill(0);
  const reports = await Promise.all(
    shares.map(
      (cases, i) =>
        new Promise<WorkerReport>((resolve) => {
          const shared = new SharedArrayBuffer(SHARED_BYTES);
          const meta = new Int32Array(shared, 0, 4);
          const data: WorkerInput = { seed: (o.seed + i * 1_000_003) | 0, cases, chunk: o.chunk ?? 5_000, slowMs: o.slowMs ?? 250, shared, selftest: o.selftest };
          const worker = new Worker(new URL('./worker.mjs', import.meta.url), {
            workerData: data,
            resourceLimits: { maxOldGenerationSizeMb: o.maxOldGenerationSizeMb ?? 1024 },
            stdout: false,
            stderr: false,
          });
          let done = false;
          const current = (): CaseJson | undefined => {
            const len = Atomics.load(meta, CASE_BYTES);
            if (len <= 0) return undefined;
            try {
              return JSON.parse(decoder.decode(new Uint8Array(shared, 16, len).slice())) as CaseJson;
            } catch {
              return undefined;
            }
          };
          const partial = (failure: Failure): WorkerReport => ({
            cases: progress[i]!,
            shrinks: 0,
            outcomes: {},
            failures: [failure],
            maxCaseMs: 0,
            slowest: '',
            peakArrayBuffers: 0,
            peakHeap: 0,
            targets: 0,
            missing: [],
          });
          let beat = -1;
          let lastChange = performance.now();
          const hangMs = o.hangMs ?? 10_000;
          const watchdog = setInterval(() => {
            const now = Atomics.load(meta, HEARTBEAT);
            if (now !== beat) {
              beat = now;
              lastChange = performance.now();
              return;
            }
            // Still loading (no case yet) counts too: the bound is on any stretch without progress.
            if (performance.now() - lastChange < hangMs || done) return;
            done = true;
            clearInterval(watchdog);
            const c = current();
            const running = Atomics.load(meta, PHASE) === 1;
            void worker.terminate();
            resolve(partial({ kind: 'hang', target: c?.target ?? '?', reason: `no progress for ${hangMs} ms${running ? ' inside a case' : ''}`, case: running ? c : undefined }));
          }, Math.min(1000, hangMs / 4));
          worker.on('message', (m: FromWorker) => {
            if (m.type === 'progress') {
              progress[i] = m.cases;
              o.onProgress?.(progress.reduce((a, b) => a + b, 0));
            } else if (m.type === 'done') {
              done = true;
              clearInterval(watchdog);
              resolve(m.report);
            }
          });
          const died = (why: string) => {
            if (done) return;
            done = true;
            clearInterval(watchdog);
            const c = current();
            resolve(partial({ kind: 'died', target: c?.target ?? '?', reason: why, case: Atomics.load(meta, PHASE) === 1 ? c : undefined }));
          };
          worker.on('error', (e) => died(`worker error: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`));
          worker.on('exit', (code) => died(`worker exited with code ${code}`));
        }),
    ),
  );
  const outcomes: Record<string, Record<string, number>> = {};
  for (const r of reports) {
    for (const [kind, counts] of Object.entries(r.outcomes)) {
      const o2 = (outcomes[kind] ??= {});
      for (const [k, v] of Object.entries(counts)) o2[k] = (o2[k] ?? 0) + v;
    }
  }
  const slowestReport = reports.reduce((a, b) => (b.maxCaseMs > a.maxCaseMs ? b : a));
  return {
    seed: o.seed,
    workers: n,
    ms: performance.now() - started,
    cases: reports.reduce((a, r) => a + r.cases, 0),
    shrinks: reports.reduce((a, r) => a + r.shrinks, 0),
    outcomes,
    failures: dedupe(reports.flatMap((r) => r.failures)),
    maxCaseMs: slowestReport.maxCaseMs,
    slowest: slowestReport.slowest,
    peakArrayBuffers: Math.max(...reports.map((r) => r.peakArrayBuffers)),
    peakHeap: Math.max(...reports.map((r) => r.peakHeap)),
    targets: Math.max(...reports.map((r) => r.targets)),
    missing: reports.find((r) => r.missing.length)?.missing ?? [],
  };
}

/** One failure per target and kind of reason (numbers blanked). */
function dedupe(failures: Failure[]): Failure[] {
  const seen = new Map<string, Failure>();
  for (const f of failures) {
    const key = `${f.kind} ${f.target} ${f.reason.replace(/\d+/g, 'N')}`;
    if (!seen.has(key)) seen.set(key, f);
  }
  return [...seen.values()];
}

/** The report as the lines `npm run fuzz` prints. */
export function formatReport(r: FuzzReport): string {
  const lines = [
    `fuzz: ${r.cases.toLocaleString('en-US')} cases in ${(r.ms / 1000).toFixed(1)} s (${Math.round(r.cases / (r.ms / 1000)).toLocaleString('en-US')}/s), seed ${r.seed}, ${r.workers} worker(s), ${r.targets} targets`,
    `slowest case: ${r.maxCaseMs.toFixed(1)} ms (${r.slowest}); peak per worker: heap ${(r.peakHeap / 2 ** 20).toFixed(0)} MiB, array buffers ${(r.peakArrayBuffers / 2 ** 20).toFixed(1)} MiB`,
    'outcomes:',
  ];
  for (const [kind, counts] of Object.entries(r.outcomes).sort()) {
    lines.push(`  ${kind.padEnd(8)} ${Object.entries(counts).sort().map(([k, v]) => `${k} ${v.toLocaleString('en-US')}`).join(', ')}`);
  }
  if (r.missing.length) lines.push(`schema items without a generated decoder (generated/ stale?): ${r.missing.join('; ')}`);
  lines.push(r.failures.length ? `FAILURES: ${r.failures.length}` : 'failures: none');
  for (const f of r.failures) {
    lines.push(`  [${f.kind}] ${f.target}: ${f.reason}`);
    if (f.case) lines.push(`    case: ${JSON.stringify(f.case)}`);
    if (f.stack) lines.push(...f.stack.split('\n').slice(1, 4).map((l) => `    ${l.trim()}`));
  }
  return lines.join('\n');
}
