/**
 * The socket side of the reader thread: hands a dump's remaining datagrams to a
 * worker thread (runtime/reader-worker.ts), which receives them into shared slots
 * while this thread decodes the ones before. The kernel does its share of a dump
 * inside the receive call, so the two overlap: a large dump takes about the longer
 * of the two instead of their sum. One thread serves the whole process, one dump
 * at a time; it runs once started (startReaderThread), never keeps the process
 * alive, and costs nothing while idle. Its start-up takes 40-50 ms of another CPU,
 * which pays off only for large dumps: query/large-dump.ts decides when to start it.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { SyscallError } from './errors.js';
import { CONTROL_WORDS, Ctl, NOT_WAITING, Outcome, SLOT_BYTES, SLOTS, slotOffset } from './reader-layout.js';

/** A received datagram: `length` bytes at the start of `view`. */
export interface Datagram {
  view: DataView;
  length: number;
}

/** What the reader thread has done in this process (for benchmarks and tests). */
export interface ReaderThreadStats {
  /** It was started in this process. */
  started: boolean;
  /** Dumps handed to it. */
  jobs: number;
  /** Datagrams it received. */
  datagrams: number;
  /**
   * Times it waited a whole re-check interval for the decoder to free slots: a
   * decoder that paused that long, or a wake-up that went missing.
   */
  stalls: number;
}

interface Thread {
  worker: Worker;
  ctl: Int32Array;
  data: SharedArrayBuffer;
  ready: Promise<void>;
  /** Set when the thread could not start or died: dumps are then read without it. */
  failed: boolean;
}

let thread: Thread | undefined;
/** The receive that holds the thread, if any. */
let owner: ThreadedReceive | undefined;
const stats = { jobs: 0, datagrams: 0 };

/**
 * Starts the reader thread if it is not running, without waiting for it (nor
 * keeping the process alive for it). SockDiag starts it before a dump of a
 * namespace with many sockets (query/large-dump.ts); a program that knows it is
 * about to read a large dump can start it earlier, so that it is ready in time.
 */
export function startReaderThread(): void {
  start();
}

/**
 * Starts the reader thread if needed; resolves once it takes dumps, or could not
 * start (dumps are then read on the calling thread, as without it).
 */
export async function readerThreadReady(): Promise<void> {
  const t = start();
  t.worker.ref();
  try {
    await t.ready;
  } finally {
    t.worker.unref();
  }
}

function start(): Thread {
  if (thread) return thread;
  const control = new SharedArrayBuffer(CONTROL_WORDS * Int32Array.BYTES_PER_ELEMENT);
  const data = new SharedArrayBuffer(SLOTS * SLOT_BYTES);
  // Loaded here, not imported: node:worker_threads brings node's streams with it, 3-4 ms
  // of every start of the command, which starts a reader thread only for large dumps.
  const { Worker } = createRequire(import.meta.url)('node:worker_threads') as typeof import('node:worker_threads');
  const worker = new Worker(workerEntry(), { workerData: { control, data }, stdout: false, execArgv: workerExecArgv() });
  worker.unref();
  const t: Thread = { worker, ctl: new Int32Array(control), data, ready: Promise.resolve(), failed: false };
  t.ready = new Promise<void>((resolve) => {
    const fail = () => {
      t.failed = true;
      resolve();
    };
    worker.once('error', fail);
    worker.once('exit', fail);
    // Waiting for it to start does not keep the process alive: a short program need not wait.
    waitFor(t, () => Atomics.load(t.ctl, Ctl.ready) === 1, false).then(resolve, fail);
  });
  process.once('exit', () => settle(t));
  return (thread = t);
}

/** The longest the process waits at exit for the thread to reach a state it can be stopped in. */
const EXIT_WAIT_MS = 2000;

/**
 * Lets the thread reach a point where ending it is safe, before the process exits:
 * node stops workers wherever they are, and one stopped inside koffi's native set-up
 * aborts the whole process. A thread that has not begun that set-up will not begin
 * it (see reader-worker.ts); one that has is waited for (it runs on its own; one
 * that has not started at all may need this thread, which is why it is not waited
 * for). A receive still running (a process.exit() in the middle of a dump) is
 * cancelled and waited for. Bounded; a clean exit rarely waits at all.
 */
function settle(t: Thread): void {
  Atomics.store(t.ctl, Ctl.exiting, 1);
  Atomics.store(t.ctl, Ctl.cancel, 1);
  Atomics.notify(t.ctl, Ctl.consumed);
  const loading = Atomics.load(t.ctl, Ctl.loading) === 1;
  const deadline = performance.now() + EXIT_WAIT_MS;
  for (;;) {
    const event = Atomics.load(t.ctl, Ctl.event);
    const loaded = !loading || Atomics.load(t.ctl, Ctl.ready) === 1 || t.failed;
    if (loaded && Atomics.load(t.ctl, Ctl.job) === 0) return;
    const left = deadline - performance.now();
    if (left <= 0) return;
    Atomics.wait(t.ctl, Ctl.event, event, left);
  }
}

/**
 * The process's node options for the worker, less `--input-type`: node refuses a
 * worker whose entry is a file while it is set, so a program run as
 * `node --input-type=module -e '...'` would have no reader thread.
 */
function workerExecArgv(): string[] {
  const argv = process.execArgv;
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--input-type') i++;
    else if (!argv[i]!.startsWith('--input-type=')) kept.push(argv[i]!);
  }
  return kept;
}

/**
 * The worker's entry point: reader-worker.js next to this module. Run from the
 * TypeScript sources (as the tests do), it is reader-worker.ts, loaded through tsx,
 * which a worker does not inherit from its parent.
 */
function workerEntry(): URL {
  if (!import.meta.url.endsWith('.ts')) return new URL('./reader-worker.js', import.meta.url);
  // require.resolve finds the CommonJS build of tsx's API; its ESM build sits beside it.
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const entry = new URL('./reader-worker.ts', import.meta.url).href;
  const code = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(entry)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}

/** Counts of what the reader thread has done in this process. */
export function readerThreadStats(): ReaderThreadStats {
  return { started: thread !== undefined, ...stats, stalls: thread ? Atomics.load(thread.ctl, Ctl.stalls) : 0 };
}

/**
 * Resolves when `done()` holds, waiting on the control block's event word without
 * blocking; with `keepAlive`, the process stays alive meanwhile.
 */
async function waitFor(t: Thread, done: () => boolean, keepAlive = true): Promise<void> {
  for (;;) {
    const event = Atomics.load(t.ctl, Ctl.event);
    if (done()) return;
    await changed(t, event, keepAlive);
  }
}

/** Resolves when the event word is no longer `event`. */
async function changed(t: Thread, event: number, keepAlive = true): Promise<void> {
  const wait = Atomics.waitAsync(t.ctl, Ctl.event, event);
  if (!wait.async) return;
  // A pending waitAsync does not keep the process alive by itself; the worker's handle does, meanwhile.
  if (keepAlive) t.worker.ref();
  try {
    await wait.value;
  } finally {
    if (keepAlive) t.worker.unref();
  }
}

/** Ask again this often, in milliseconds, while the thread finishes a cancelled job. */
const RECHECK_MS = 100;

/**
 * The rest of one reply, received by the reader thread. Datagrams are given out one
 * at a time, in order; each stays valid until the next call of `next`.
 */
export class ThreadedReceive {
  private taken = 0;
  private left = false;

  private constructor(private readonly t: Thread) {}

  /**
   * Hands the reply to request `seq` on descriptor `fd` to the reader thread, when
   * it runs, is ready and is free; otherwise undefined, and the caller reads on.
   */
  static begin(fd: number, seq: number, port: number, ack: boolean): ThreadedReceive | undefined {
    const t = thread;
    if (!t || t.failed || owner || Atomics.load(t.ctl, Ctl.ready) !== 1) return undefined;
    const ctl = t.ctl;
    ctl[Ctl.fd] = fd;
    ctl[Ctl.seq] = seq | 0;
    ctl[Ctl.port] = port | 0;
    ctl[Ctl.ack] = ack ? 1 : 0;
    ctl[Ctl.produced] = 0;
    ctl[Ctl.consumed] = 0;
    ctl[Ctl.outcome] = Outcome.running;
    ctl[Ctl.cancel] = 0;
    ctl[Ctl.wanted] = NOT_WAITING;
    Atomics.store(ctl, Ctl.job, 1);
    Atomics.notify(ctl, Ctl.job);
    stats.jobs++;
    return (owner = new ThreadedReceive(t));
  }

  /**
   * The next datagram, waiting for it; undefined once the thread has left the job
   * (the reply ended, or it handed the rest back to the caller's own reads).
   * @throws SyscallError when the thread's receive failed.
   */
  next(): Datagram | undefined {
    for (;;) {
      const event = Atomics.load(this.t.ctl, Ctl.event);
      const r = this.poll();
      if (r !== WAIT) return r;
      Atomics.wait(this.t.ctl, Ctl.event, event);
    }
  }

  /** Like {@link ThreadedReceive.next}, waiting without blocking the event loop. */
  async nextAsync(): Promise<Datagram | undefined> {
    for (;;) {
      const event = Atomics.load(this.t.ctl, Ctl.event);
      const r = this.poll();
      if (r !== WAIT) return r;
      await changed(this.t, event);
    }
  }

  /** Asks the thread to stop at the next datagram; what it already received still comes out of `next`. */
  cancel(): void {
    if (this.left) return;
    Atomics.store(this.t.ctl, Ctl.cancel, 1);
    // It may be waiting for a free slot.
    Atomics.notify(this.t.ctl, Ctl.consumed);
  }

  /** Stops the job (dropping what was received and not taken) and waits until the thread has left it. */
  finish(): void {
    this.cancel();
    for (;;) {
      const event = Atomics.load(this.t.ctl, Ctl.event);
      if (Atomics.load(this.t.ctl, Ctl.job) === 0) break;
      Atomics.wait(this.t.ctl, Ctl.event, event, RECHECK_MS);
    }
    this.release();
  }

  /** Like {@link ThreadedReceive.finish}, waiting without blocking the event loop. */
  async finishAsync(): Promise<void> {
    this.cancel();
    await waitFor(this.t, () => Atomics.load(this.t.ctl, Ctl.job) === 0);
    this.release();
  }

  private release(): void {
    this.left = true;
    if (owner === this) owner = undefined;
  }

  private poll(): Datagram | undefined | typeof WAIT {
    const ctl = this.t.ctl;
    // The datagram given out last is done with: its slot may be filled again.
    Atomics.store(ctl, Ctl.consumed, this.taken);
    if (this.taken >= Atomics.load(ctl, Ctl.wanted)) Atomics.notify(ctl, Ctl.consumed);
    // Read `job` before `produced`: a thread that left has published all it received.
    const left = Atomics.load(ctl, Ctl.job) === 0;
    if (Atomics.load(ctl, Ctl.produced) > this.taken) {
      const i = this.taken++;
      stats.datagrams++;
      const length = ctl[Ctl.lengths + (i % SLOTS)]!;
      return { view: new DataView(this.t.data, slotOffset(i), length), length };
    }
    if (!left) return WAIT;
    this.release();
    if (ctl[Ctl.outcome] === Outcome.failed) throw new SyscallError('recvfrom', ctl[Ctl.errno]!, 'receiving on the reader thread');
    return undefined;
  }
}

const WAIT = Symbol('wait');
