/**
 * One fuzz worker: runs its share of the cases in chunks of fast-check runs, each
 * chunk with a seed derived from the worker's, and reports outcomes and failures to
 * the runner. Before each case it writes the case (as JSON) into shared memory and
 * bumps a heartbeat, so that the runner's watchdog can name the input of a case that
 * hangs or kills the thread.
 */
import fc from 'fast-check';
import { parentPort, workerData } from 'node:worker_threads';
import { caseToJson, loadFuzz, runCase, type FuzzCase, type Verdict } from './core.js';
import { HEARTBEAT, CASE_BYTES, PHASE, type Failure, type FromWorker, type WorkerInput } from './protocol.js';

const input = workerData as WorkerInput;
const meta = new Int32Array(input.shared, 0, 4);
const caseBytes = new Uint8Array(input.shared, 16);
const encoder = new TextEncoder();
const post = (m: FromWorker) => parentPort!.postMessage(m);

/** Puts the case about to run where the watchdog can read it. */
function announce(c: FuzzCase): void {
  const json = JSON.stringify(caseToJson(c));
  const { written } = encoder.encodeInto(json, caseBytes);
  Atomics.store(meta, CASE_BYTES, written);
  Atomics.store(meta, PHASE, 1);
  Atomics.add(meta, HEARTBEAT, 1);
}

class CaseFailed extends Error {
  constructor(readonly verdict: Extract<Verdict, { ok: false }>) {
    super(verdict.reason);
  }
}

const fz = await loadFuzz();
let arbitrary = fz.arbitrary;
if (input.selftest) {
  // A target that misbehaves on inputs longer than 40 bytes starting with an odd byte.
  const mode = input.selftest;
  fz.targets.set('selftest', {
    name: 'selftest',
    kind: 'export',
    run: (v, o, l) => {
      if (l > 40 && v.getUint8(o) & 1) {
        if (mode === 'crash') throw new TypeError('selftest crash');
        for (;;);
      }
      return null;
    },
  });
  arbitrary = fc.oneof(
    fz.arbitrary,
    fc.record({ target: fc.constant('selftest'), body: fc.uint8Array({ maxLength: 64, size: 'max' }), pre: fc.constant(new Uint8Array(0)), post: fc.constant(new Uint8Array(0)), family: fc.constant(2), aux: fc.constant(0) }),
  );
}
const outcomes: Record<string, Record<string, number>> = {};
const failures: Failure[] = [];
let cases = 0;
let shrinks = 0;
let maxMs = 0;
let slowest = '';
let peakArrayBuffers = 0;
let peakHeap = 0;

const kindOf = (target: string) => fz.targets.get(target)?.kind ?? target;

let remaining = input.cases;
for (let chunk = 0; remaining > 0; chunk++) {
  const numRuns = Math.min(input.chunk, remaining);
  let failedInChunk = false;
  const seed = (input.seed + Math.imul(chunk + 1, 0x9e3779b1)) | 0;
  const details = fc.check(
    fc.property(arbitrary, (c) => {
      announce(c);
      const v = runCase(fz, c, { slowMs: input.slowMs });
      Atomics.store(meta, PHASE, 0);
      if (failedInChunk) shrinks++;
      else {
        cases++;
        const k = kindOf(c.target);
        const o = (outcomes[k] ??= {});
        const key = v.ok ? v.outcome : 'failed';
        o[key] = (o[key] ?? 0) + 1;
        if (v.ms > maxMs) ((maxMs = v.ms), (slowest = `${c.target} (${c.body.length} bytes)`));
      }
      if (!v.ok) {
        failedInChunk = true;
        throw new CaseFailed(v);
      }
      return true;
    }),
    { seed, numRuns, endOnFailure: false },
  );
  if (details.failed) {
    const c = details.counterexample?.[0] as FuzzCase | undefined;
    const err = details.errorInstance;
    const reason = err instanceof CaseFailed ? err.verdict.reason : String(err);
    const cause = err instanceof CaseFailed ? err.verdict.error : err;
    failures.push({
      kind: 'crash',
      target: c?.target ?? '?',
      reason,
      stack: cause instanceof Error ? cause.stack : undefined,
      case: c ? caseToJson(c) : undefined,
      seed,
      path: details.counterexamplePath ?? undefined,
    });
    remaining -= details.numRuns;
  } else remaining -= numRuns;
  const mem = process.memoryUsage();
  peakArrayBuffers = Math.max(peakArrayBuffers, mem.arrayBuffers);
  peakHeap = Math.max(peakHeap, mem.heapUsed);
  post({ type: 'progress', cases });
}

post({ type: 'done', report: { cases, shrinks, outcomes, failures, maxCaseMs: maxMs, slowest, peakArrayBuffers, peakHeap, targets: fz.targets.size, missing: fz.missing } });
