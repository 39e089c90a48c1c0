/** Messages and shared-memory layout between the fuzz runner and its worker threads. */
import type { CaseJson } from './core.js';

/** Int32 slots at the start of the shared buffer; the case JSON follows at byte 16. */
export const HEARTBEAT = 0;
export const CASE_BYTES = 1;
/** 1 while a case runs, 0 between cases. */
export const PHASE = 2;
export const SHARED_BYTES = 16 + (1 << 20);

export interface WorkerInput {
  seed: number;
  cases: number;
  chunk: number;
  slowMs: number;
  shared: SharedArrayBuffer;
  /** Adds a target that hangs or crashes on some inputs, to show that the runner catches both. */
  selftest?: 'hang' | 'crash';
}

export interface Failure {
  /** crash: a disallowed outcome (shrunk by fast-check); hang: no progress within the bound; died: the thread itself died. */
  kind: 'crash' | 'hang' | 'died';
  target: string;
  reason: string;
  stack?: string;
  case?: CaseJson;
  seed?: number;
  path?: string;
}

export interface WorkerReport {
  cases: number;
  shrinks: number;
  /** By target kind, then outcome. */
  outcomes: Record<string, Record<string, number>>;
  failures: Failure[];
  maxCaseMs: number;
  slowest: string;
  peakArrayBuffers: number;
  peakHeap: number;
  targets: number;
  missing: string[];
}

export type FromWorker = { type: 'progress'; cases: number } | { type: 'done'; report: WorkerReport };
