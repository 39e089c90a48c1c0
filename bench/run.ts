/**
 * The sockdiag benchmark: `npm run bench -- --sockets 100000`, or a sweep with
 * `npm run bench -- --sizes 1000,10000,100000` (which also draws bench/chart.svg).
 *
 * For each size it sets up the workload once (bench/workload.ts: N established
 * TCP sockets in a private network namespace), runs every case once untimed to
 * warm caches and check its output, then times R rounds (default 5), each round
 * running every case once in the same order (ABC ABC ..., never all of A first).
 * Each run is a whole process under bench/timeit.c (wall time, peak RSS from
 * wait4). Reported: medians over the rounds, and ratios against the targets.
 *
 * Options:
 *   --sockets N        established sockets (both ends of N/2 connections); default 100000
 *   --sizes A,B,C      a sweep instead of one size
 *   --runs R           timed rounds per size (default 5, at least 1)
 *   --lookups K        4-tuple lookups per lookup run (default 10000)
 *   --profile          also profile the library dump (node --cpu-prof) at the largest size
 *   --out FILE         write the Markdown report to FILE as well as stdout
 *   --chart FILE       where a sweep's chart goes (default bench/chart.svg)
 *   --no-build         skip `npm run build`
 *   --timeout S        per-command limit in seconds (default 120)
 *   --quiet P          before each timed run, wait (up to 10 s; 180 s per whole run) until
 *                      the machine's CPUs were less than P% busy for 250 ms (default 20)
 */
import { spawn, spawnSync, type ChildProcess, type StdioOptions } from 'node:child_process';
import { closeSync, cpSync, existsSync, openSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, release } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { renderChart, type Series } from './chart.js';
import { profileMarkdown, summarise } from './profile.js';
import { BENCH_DIR, cleanupNow, compile, onCleanup, removeStaleTempDirs, ROOT, tempDir } from './tools.js';
import { CLIENT_NET, PORTS, removeStaleNamespaces, startWorkload, type Workload } from './workload.js';
import { inet } from '../query/index.js';

// ---------------------------------------------------------------- options

const { values: opt } = parseArgs({
  options: {
    sockets: { type: 'string' },
    sizes: { type: 'string' },
    runs: { type: 'string', default: '5' },
    lookups: { type: 'string', default: '10000' },
    profile: { type: 'boolean', default: false },
    out: { type: 'string' },
    chart: { type: 'string', default: join(BENCH_DIR, 'chart.svg') },
    'no-build': { type: 'boolean', default: false },
    timeout: { type: 'string', default: '120' },
    quiet: { type: 'string', default: '20' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (opt.help) {
  const text = readFileSync(new URL(import.meta.url), 'utf8');
  process.stdout.write(text.slice(text.indexOf('/**') + 3, text.indexOf('*/')).replace(/^ \* ?/gm, '') + '\n');
  process.exit(0);
}

function positiveInt(text: string, name: string, max: number): number {
  const n = Number(text.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n < 1 || n > max) {
    process.stderr.write(`bench: --${name} must be a whole number from 1 to ${max}, not ${JSON.stringify(text)}\n`);
    process.exit(2);
  }
  return n;
}

const SIZES = (opt.sizes ?? opt.sockets ?? '100000')
  .split(',')
  .map((s) => positiveInt(s.trim(), opt.sizes ? 'sizes' : 'sockets', 1_000_000))
  .sort((a, b) => a - b);
const RUNS = positiveInt(opt.runs, 'runs', 100);
const LOOKUPS = positiveInt(opt.lookups, 'lookups', 10_000_000);
const TIMEOUT_S = positiveInt(opt.timeout, 'timeout', 3600);
const QUIET = positiveInt(opt.quiet, 'quiet', 100) / 100;

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

// ---------------------------------------------------------------- preflight

if (process.platform !== 'linux' || process.getuid?.() !== 0) {
  log('needs Linux and root (it makes network namespaces)');
  process.exit(1);
}
for (const tool of ['gcc', 'ip', 'ss']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    log(`${tool} is not installed`);
    process.exit(1);
  }
}
removeStaleNamespaces(log);
removeStaleTempDirs();

if (!opt['no-build']) {
  log('npm run build');
  const b = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  if (b.status !== 0) {
    log(`build failed:\n${b.stdout}${b.stderr}`);
    process.exit(1);
  }
}
/** The command as `npm install` links it: package.json's bin. */
const BIN_PATH = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: { sockdiag: string } }).bin.sockdiag;
for (const f of ['dist/lib/sockdiag.js', 'dist/query/index.js', BIN_PATH, 'dist/generated/inet_diag.js']) {
  if (!existsSync(join(ROOT, f))) {
    log(`${f} is missing: run npm run build`);
    process.exit(1);
  }
}

const TIMEIT = compile('timeit');
const BASELINE = compile('baseline');
const NODE = process.execPath;
const scratch = tempDir('run');

// Measure a snapshot of the build: others may rebuild dist/ while this runs.
const PKG = join(scratch, 'pkg');
cpSync(join(ROOT, 'dist'), join(PKG, 'dist'), { recursive: true });
cpSync(join(ROOT, 'package.json'), join(PKG, 'package.json'));
cpSync(join(BENCH_DIR, 'lib-dump.mjs'), join(PKG, 'bench', 'lib-dump.mjs'));
symlinkSync(join(ROOT, 'node_modules'), join(PKG, 'node_modules'));
const LIB = join(PKG, 'bench', 'lib-dump.mjs');
const CLI = join(PKG, BIN_PATH);

// ---------------------------------------------------------------- running one command

interface Run {
  /** CPU busy fraction of the machine just before the run (timed runs only). */
  background?: number;
  wall: number;
  rssKiB: number;
  status: number;
  /** CPU seconds in user space and in the kernel. */
  user: number;
  sys: number;
  stdout: string;
  stderr: string;
}

const running = new Set<ChildProcess>();
onCleanup(() => {
  // timeit passes SIGTERM on to the command it runs.
  for (const c of running) c.kill('SIGTERM');
});

/** Runs argv under timeit; stdout goes to /dev/null, a pipe (captured), or a file descriptor. */
function timed(argv: readonly string[], stdout: 'null' | 'capture' | number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const stdio: StdioOptions = ['ignore', stdout === 'null' ? 'ignore' : stdout === 'capture' ? 'pipe' : stdout, 'pipe', 'pipe'];
    const child = spawn(TIMEIT, [String(TIMEOUT_S), ...argv], { cwd: ROOT, stdio });
    running.add(child);
    let out = '';
    let err = '';
    let report = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => {
      if (err.length < 8192) err += d.toString();
    });
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (d: Buffer) => (report += d.toString()));
    // A last resort past timeit's own limit.
    const guard = setTimeout(() => child.kill('SIGKILL'), (TIMEOUT_S + 30) * 1000);
    child.on('error', (e) => {
      clearTimeout(guard);
      running.delete(child);
      reject(e);
    });
    child.on('close', () => {
      clearTimeout(guard);
      running.delete(child);
      const [wall, rss, status, user, sys] = report.trim().split(/\s+/).map(Number);
      if (wall === undefined || rss === undefined || status === undefined || Number.isNaN(wall)) {
        reject(new Error(`timeit gave no report for ${argv.join(' ')}: ${err.trim()}`));
        return;
      }
      resolve({ wall, rssKiB: rss, status, user: user ?? NaN, sys: sys ?? NaN, stdout: out, stderr: err });
    });
  });
}

// ---------------------------------------------------------------- a quiet machine

/** Busy and total jiffies of all CPUs, from /proc/stat. */
function cpuJiffies(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return { busy: total - idle, total };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let waitBudgetMs = 180_000;

/**
 * How busy the CPUs are with other work (nothing of ours runs between timed runs):
 * samples 250 ms, and while above QUIET keeps waiting, up to 10 s per call and
 * 180 s per whole benchmark. Returns the last sample's busy fraction.
 */
async function waitQuiet(): Promise<number> {
  const start = performance.now();
  for (;;) {
    const a = cpuJiffies();
    await sleep(250);
    const b = cpuJiffies();
    const busy = b.total > a.total ? (b.busy - a.busy) / (b.total - a.total) : 0;
    const waited = performance.now() - start;
    if (busy < QUIET || waited > 10_000 || waited > waitBudgetMs) {
      waitBudgetMs = Math.max(0, waitBudgetMs - Math.max(0, waited - 250));
      return busy;
    }
  }
}

// ---------------------------------------------------------------- cases

type Check = (r: Run, outputFile: string) => string | undefined;

interface Case {
  id: string;
  label: string;
  /** The command as shown in the report. */
  shown: string;
  argv: string[];
  /** The command's stdout: `json`/`text` is captured in every round (small), `null` goes to /dev/null. */
  stdout: 'json' | 'text' | 'null';
  /** Checks the untimed warm-up run; returns a warning, or undefined when all is well. Its stdout went to outputFile. */
  check?: Check;
  /** Left out of the chart (not a dump). */
  noChart?: boolean;
  /** A shorter label for the chart's legend. */
  chart?: string;
}

/** The line of stderr that says what went wrong (an Error line, else the first line). */
function errorLine(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  return (lines.find((l) => /^\w*(Error|error)\b|^sockdiag:|^baseline:/.test(l)) ?? lines[0] ?? 'no message').slice(0, 300);
}

function lineCount(file: string): number {
  const text = readFileSync(file, 'latin1');
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * The kernel-filter case: a filter that keeps about ten sockets, as the issue has it.
 * A client's ephemeral port P is in use by a few connections at most (one per holder
 * address pair that drew it), so `sport = :P or dport = :P` keeps both ends of those:
 * P is the first client port a dump finds, and the count comes from the same dump.
 */
function filterCase(w: Workload): { expr: string; expected: number } {
  const sockets = [...inet({ netns: { name: w.netns }, states: ['established'] })];
  const client = sockets.find((s) => s.src.startsWith(CLIENT_NET));
  if (!client) throw new Error('no client socket in the workload');
  const p = client.sport;
  return { expr: `sport = :${p} or dport = :${p}`, expected: sockets.filter((s) => s.sport === p || s.dport === p).length };
}

function cases(w: Workload): Case[] {
  const ns = w.netns;
  const filter = filterCase(w);
  const jsonCount =
    (field: string, want: number): Check =>
    (r) => {
      const j = JSON.parse(r.stdout) as Record<string, number>;
      return j[field] === want ? undefined : `${field} ${j[field]}, expected ${want}`;
    };
  const libArgs = (...more: string[]) => [NODE, LIB, '--netns', ns, ...more];
  // Without -a, ss and sockdiag leave out listening sockets: only the established ones show.
  const lines =
    (sockets: number, perSocket: number, extra: number): Check =>
    (_r, file) => {
      const n = lineCount(file);
      const want = sockets * perSocket + extra;
      return n === want ? undefined : `${n} output lines, expected ${want}`;
    };
  const cBaseline: Check = (r) => {
    const m = /sockets (\d+)/.exec(r.stdout);
    return m && Number(m[1]) === w.expected ? undefined : `baseline said "${r.stdout.trim()}", expected ${w.expected} sockets`;
  };
  return [
    { id: 'floor', label: 'node -e 0 (floor)', shown: 'node -e 0', argv: [NODE, '-e', '0'], stdout: 'null' },
    ...(process.env.NODE_EXTRA_CA_CERTS
      ? [{ id: 'floor-nocerts', label: 'node -e 0 without NODE_EXTRA_CA_CERTS (floor of the sockdiag rows)', chart: 'node -e 0, no extra CA (floor)', shown: 'env -u NODE_EXTRA_CA_CERTS node -e 0', argv: ['env', '-u', 'NODE_EXTRA_CA_CERTS', NODE, '-e', '0'], stdout: 'null' as const }]
      : []),
    { id: 'nsfloor', label: 'ip netns exec true (floor of the ss rows)', chart: 'ip netns exec true (floor)', shown: 'ip netns exec NS true', argv: ['ip', 'netns', 'exec', ns, 'true'], stdout: 'null' },
    { id: 'lib-load', label: 'library loaded, no dump (floor of the library rows)', chart: 'library loaded (floor)', shown: 'node bench/lib-dump.mjs --mode load', argv: libArgs('--mode', 'load'), stdout: 'json' },
    { id: 'c-ext', label: 'C baseline, ext', shown: 'baseline -N NS -x', argv: [BASELINE, '-N', ns, '-x'], stdout: 'text', check: cBaseline },
    { id: 'c-noext', label: 'C baseline, no ext', shown: 'baseline -N NS', argv: [BASELINE, '-N', ns], stdout: 'text', check: cBaseline },
    {
      id: 'c-ext-u',
      label: 'C baseline, ext, one AF_UNSPEC walk (as the library and the command ask; ss makes one per family)',
      chart: 'C baseline, ext, one walk',
      shown: 'baseline -N NS -x -u',
      argv: [BASELINE, '-N', ns, '-x', '-u'],
      stdout: 'text',
      check: cBaseline,
    },
    {
      id: 'c-noext-u',
      label: 'C baseline, no ext, one AF_UNSPEC walk (as the library and the command ask)',
      chart: 'C baseline, no ext, one walk',
      shown: 'baseline -N NS -u',
      argv: [BASELINE, '-N', ns, '-u'],
      stdout: 'text',
      check: cBaseline,
    },
    { id: 'lib-ext', label: 'library, sync, ext', shown: 'node bench/lib-dump.mjs --mode sync --ext', argv: libArgs('--mode', 'sync', '--ext'), stdout: 'json', check: jsonCount('sockets', w.expected) },
    {
      id: 'lib-ext-nothread',
      label: 'library, sync, ext, io_uring receiver and reader thread off',
      chart: 'library, sync, ext, one thread',
      shown: 'node bench/lib-dump.mjs --mode sync --ext --no-thread',
      argv: libArgs('--mode', 'sync', '--ext', '--no-thread'),
      stdout: 'json',
      check: jsonCount('sockets', w.expected),
    },
    {
      id: 'lib-few',
      label: 'library, sync, ext, reading the state, the ports and the rtt of decoded records',
      chart: 'library, sync, ext, 4 fields read',
      shown: 'node bench/lib-dump.mjs --mode sync --ext --few',
      argv: libArgs('--mode', 'sync', '--ext', '--few'),
      stdout: 'json',
      check: jsonCount('sockets', w.expected),
    },
    {
      id: 'lib-views',
      label: 'library, sync, ext, reading the same 4 fields through views (inetViews)',
      chart: 'library, sync, ext, 4 fields read through views',
      shown: 'node bench/lib-dump.mjs --mode views --ext --few',
      argv: libArgs('--mode', 'views', '--ext', '--few'),
      stdout: 'json',
      check: jsonCount('sockets', w.expected),
    },
    {
      id: 'lib-decode',
      label: 'library, decoding alone (datagrams of the ext dump received first, untimed), then again',
      shown: 'node bench/lib-dump.mjs --mode decode --ext',
      argv: libArgs('--mode', 'decode', '--ext'),
      stdout: 'json',
      check: jsonCount('sockets', w.expected),
      noChart: true,
    },
    {
      id: 'lib-decode-few',
      label: 'library, decoding alone and reading the state, the ports and the rtt (datagrams received first, untimed), then again',
      shown: 'node bench/lib-dump.mjs --mode decode --ext --few',
      argv: libArgs('--mode', 'decode', '--ext', '--few'),
      stdout: 'json',
      check: jsonCount('sockets', w.expected),
      noChart: true,
    },
    {
      id: 'lib-decode-views',
      label: 'library, reading the same 4 fields through views instead (datagrams received first, untimed), then again',
      shown: 'node bench/lib-dump.mjs --mode decode --ext --few --views',
      argv: libArgs('--mode', 'decode', '--ext', '--few', '--views'),
      stdout: 'json',
      check: jsonCount('sockets', w.expected),
      noChart: true,
    },
    { id: 'lib-noext', label: 'library, sync, no ext', shown: 'node bench/lib-dump.mjs --mode sync', argv: libArgs('--mode', 'sync'), stdout: 'json', check: jsonCount('sockets', w.expected) },
    { id: 'lib-async', label: 'library, async iterator, ext', shown: 'node bench/lib-dump.mjs --mode async --ext', argv: libArgs('--mode', 'async', '--ext'), stdout: 'json', check: jsonCount('sockets', w.expected) },
    {
      id: 'lib-filter',
      label: `library, sync, ext, kernel filter keeping ${filter.expected} sockets`,
      chart: 'library, sync, ext, kernel filter',
      shown: `node bench/lib-dump.mjs --mode sync --ext --filter '${filter.expr}'`,
      argv: libArgs('--mode', 'sync', '--ext', '--filter', filter.expr),
      stdout: 'json',
      check: jsonCount('sockets', filter.expected),
    },
    { id: 'cli-tan', label: 'sockdiag -tan', shown: 'sockdiag -tan -N NS', argv: [CLI, '-tan', '-N', ns], stdout: 'null', check: lines(w.expected, 1, 1) },
    { id: 'cli-tin', label: 'sockdiag -tin', shown: 'sockdiag -tin -N NS', argv: [CLI, '-tin', '-N', ns], stdout: 'null', check: lines(w.sockets, 2, 1) },
    { id: 'cli-json', label: 'sockdiag -tin --json', shown: 'sockdiag -tin --json -N NS', argv: [CLI, '-tin', '--json', '-N', ns], stdout: 'null', check: lines(w.sockets, 1, 2) },
    { id: 'ss-tan', label: 'ss -tan', shown: 'ip netns exec NS ss -tan', argv: ['ip', 'netns', 'exec', ns, 'ss', '-tan'], stdout: 'null', check: lines(w.expected, 1, 1) },
    { id: 'ss-tin', label: 'ss -tin', shown: 'ip netns exec NS ss -tin', argv: ['ip', 'netns', 'exec', ns, 'ss', '-tin'], stdout: 'null', check: lines(w.sockets, 2, 1) },
    {
      id: 'lookup',
      label: `library, ${LOOKUPS} inetLookup calls`,
      shown: `node bench/lib-dump.mjs --mode lookup --count ${LOOKUPS}`,
      argv: libArgs('--mode', 'lookup', '--count', String(LOOKUPS)),
      stdout: 'json',
      check: (r) => {
        const j = JSON.parse(r.stdout) as { misses: number };
        return j.misses === 0 ? undefined : `${j.misses} lookups missed`;
      },
      noChart: true,
    },
  ];
}

// ---------------------------------------------------------------- measuring one size

interface CaseResult {
  c: Case;
  runs: Run[];
  /** Set when the warm-up run failed; the case is not timed then. */
  failure?: string;
  warning?: string;
  /** Output lines of the warm-up run. */
  outputLines?: number;
}

interface SizeResult {
  w: Omit<Workload, 'stop'>;
  results: Map<string, CaseResult>;
  profile?: string;
  seconds: number;
}

const median = (xs: number[]) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

async function measure(w: Workload): Promise<Map<string, CaseResult>> {
  const list = cases(w);
  const results = new Map<string, CaseResult>(list.map((c) => [c.id, { c, runs: [] }]));
  // Warm-up and checks: every case once, its stdout to a file.
  for (const c of list) {
    const r = results.get(c.id)!;
    const file = join(scratch, `${c.id}.out`);
    const fd = openSync(file, 'w');
    let run: Run;
    try {
      run = await timed(c.argv, c.stdout === 'null' ? fd : 'capture');
    } finally {
      closeSync(fd);
    }
    if (c.stdout !== 'null') writeFileSync(file, run.stdout);
    r.outputLines = lineCount(file);
    if (run.status !== 0) {
      r.failure = `exit ${run.status}: ${errorLine(run.stderr)}`;
      log(`${c.label}: FAILED (${r.failure})`);
    } else {
      try {
        r.warning = c.check?.(run, file);
      } catch (e) {
        r.warning = `output not understood: ${(e as Error).message}`;
      }
      if (r.warning) log(`${c.label}: check: ${r.warning}`);
    }
    rmSync(file, { force: true });
  }
  // Timed rounds, alternating: every case once per round.
  for (let round = 1; round <= RUNS; round++) {
    const t0 = performance.now();
    for (const c of list) {
      const r = results.get(c.id)!;
      if (r.failure) continue;
      const background = await waitQuiet();
      const run = await timed(c.argv, c.stdout === 'null' ? 'null' : 'capture');
      run.background = background;
      if (run.status !== 0) {
        r.failure = `exit ${run.status} in round ${round}: ${errorLine(run.stderr)}`;
        log(`${c.label}: FAILED (${r.failure})`);
        continue;
      }
      r.runs.push(run);
    }
    log(`  round ${round}/${RUNS}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  return results;
}

async function profile(w: Workload): Promise<string> {
  const dir = join(scratch, 'prof');
  const run = await timed([NODE, '--cpu-prof', '--cpu-prof-interval', '200', '--cpu-prof-dir', dir, LIB, '--netns', w.netns, '--mode', 'sync', '--ext'], 'capture');
  if (run.status !== 0) return `Profiling failed: ${run.stderr.trim()}`;
  // One profile per thread, named CPU.<date>.<pid>.<thread id>.<n>.cpuprofile: thread 0 is the main thread.
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort((x, y) => Number(x.split('.').at(-3)) - Number(y.split('.').at(-3)));
  if (files.length === 0) return 'Profiling wrote no .cpuprofile.';
  const j = JSON.parse(run.stdout) as { ms: number; sockets: number };
  const sections = files.map((f, i) => [
    i === 0
      ? '#### Main thread (decoding)\n\nThe io_uring receiver (runtime/ring-receive.js) receives on a kernel worker thread, which the profile does not see: this thread waits for it inside `io_uring_enter` (`ioUringEnter` in runtime/libc.js, or a function V8 inlined it into): that is the time the kernel was behind.'
      : '#### Reader thread (receiving)\n\n`recvfrom` is the kernel producing and copying the dump; `runJob` and `serve` include waiting for free slots and for the job.',
    '',
    profileMarkdown(summarise(join(dir, f), 15, PKG)),
  ].join('\n'));
  return [
    `\`node --cpu-prof --cpu-prof-interval 200 bench/lib-dump.mjs --mode sync --ext\` at ${fmtInt(w.sockets)} sockets: ` +
      `${fmtInt(j.sockets)} sockets decoded, dump ${j.ms.toFixed(0)} ms in-process, ${run.wall.toFixed(2)} s whole process (profiler on). ` +
      'Self time by function (whole process, start-up included), then by file, for each thread:',
    '',
    ...sections,
  ].join('\n\n');
}

// ---------------------------------------------------------------- report

const fmtInt = (n: number) => (Number.isFinite(n) ? n.toLocaleString('en-US') : 'n/a');
const fmtS = (s: number) => (Number.isNaN(s) ? 'n/a' : s >= 10 ? `${s.toFixed(1)} s` : s >= 1 ? `${s.toFixed(2)} s` : `${(s * 1000).toFixed(s >= 0.1 ? 0 : 1)} ms`);
const fmtMiB = (kib: number) => (Number.isNaN(kib) ? 'n/a' : `${(kib / 1024).toFixed(1)} MiB`);
const fmtX = (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)}x` : 'n/a');

const wallOf = (r: CaseResult | undefined) => median(r?.runs.map((x) => x.wall) ?? []);
const rssOf = (r: CaseResult | undefined) => median(r?.runs.map((x) => x.rssKiB) ?? []);
const jsonOf = (r: CaseResult | undefined, field: string) => median(r?.runs.map((x) => (JSON.parse(x.stdout) as Record<string, number>)[field]!) ?? []);

function sizeTable(s: SizeResult): string {
  const rows = [
    '| case | command | wall, median | wall, min–max | CPU user + sys, median | peak RSS, median | in-process | output check |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const r of s.results.values()) {
    if (r.failure) {
      rows.push(`| ${r.c.label} | \`${r.c.shown}\` | failed | | | | | ${r.failure.replace(/\|/g, '\\|')} |`);
      continue;
    }
    const walls = r.runs.map((x) => x.wall);
    let inproc = '';
    if (r.c.id.startsWith('lib-') && r.c.id !== 'lib-load') inproc = `dump ${fmtS(jsonOf(r, 'ms') / 1000)}`;
    if (r.c.id.startsWith('lib-decode')) inproc = `decode ${fmtS(jsonOf(r, 'ms') / 1000)}, again ${fmtS(jsonOf(r, 'warmMs') / 1000)}`;
    if (r.c.id === 'lookup') inproc = `${fmtInt(Math.round(jsonOf(r, 'perSecond')))} lookups/s`;
    const check = r.warning ? `⚠ ${r.warning}` : r.c.check ? 'ok' : r.c.stdout === 'null' && r.outputLines ? `${fmtInt(r.outputLines)} lines` : '';
    const cpu = `${fmtS(median(r.runs.map((x) => x.user)))} + ${fmtS(median(r.runs.map((x) => x.sys)))}`;
    rows.push(`| ${r.c.label} | \`${r.c.shown}\` | ${fmtS(wallOf(r))} | ${fmtS(Math.min(...walls))}–${fmtS(Math.max(...walls))} | ${cpu} | ${fmtMiB(rssOf(r))} | ${inproc} | ${check} |`);
  }
  return rows.join('\n');
}

function targetTable(s: SizeResult): string {
  const R = (id: string) => s.results.get(id);
  const rows = ['| target | goal | measured | ratio / value | met |', '| --- | --- | --- | ---: | :---: |'];
  const ratio = (label: string, goal: number, a: number, b: number, how: string) => {
    const x = a / b;
    rows.push(`| ${label} | ≤ ${goal}x | ${how}: ${fmtS(a)} / ${fmtS(b)} | ${fmtX(x)} | ${Number.isFinite(x) ? (x <= goal ? 'yes' : '**no**') : 'n/a'} |`);
  };
  const cExt = wallOf(R('c-ext'));
  ratio('library dump vs C baseline (ext)', 1.5, wallOf(R('lib-ext')), cExt, 'whole process');
  ratio('library dump vs C baseline (ext), dump alone', 1.5, jsonOf(R('lib-ext'), 'ms') / 1000, cExt, 'in-process dump / C whole process');
  ratio('reading 4 fields of each socket through views vs of decoded records, dump alone', 1.0, jsonOf(R('lib-views'), 'ms') / 1000, jsonOf(R('lib-few'), 'ms') / 1000, 'in-process');
  // The C program spends about all its time in the kernel: it stands for what the kernel spends on the dump.
  ratio('decoding alone vs the kernel producing the data (C, ext, same one walk)', 0.5, jsonOf(R('lib-decode'), 'ms') / 1000, wallOf(R('c-ext-u')), 'in-process decode / C whole process');
  ratio('the same, decoding a second dump in the same process (JIT warm)', 0.5, jsonOf(R('lib-decode'), 'warmMs') / 1000, wallOf(R('c-ext-u')), 'in-process decode / C whole process');
  ratio('reading 4 fields through views instead of decoding, vs the kernel', 0.5, jsonOf(R('lib-decode-views'), 'ms') / 1000, wallOf(R('c-ext-u')), 'in-process reads / C whole process');
  ratio('the same, decoding and reading the 4 fields', 0.5, jsonOf(R('lib-decode-few'), 'ms') / 1000, wallOf(R('c-ext-u')), 'in-process decode / C whole process');
  ratio('`sockdiag -tin` vs `ss -tin`', 0.5, wallOf(R('cli-tin')), wallOf(R('ss-tin')), 'whole process');
  ratio('`sockdiag -tan` vs `ss -tan`', 1.0, wallOf(R('cli-tan')), wallOf(R('ss-tan')), 'whole process');
  ratio('`sockdiag -tin --json` vs `ss -tin`', 1.0, wallOf(R('cli-json')), wallOf(R('ss-tin')), 'whole process');
  const rss = rssOf(R('lib-async'));
  rows.push(`| streaming (async iterator) peak RSS | < 120 MiB | peak RSS of the whole process | ${fmtMiB(rss)} | ${Number.isNaN(rss) ? 'n/a' : rss < 120 * 1024 ? 'yes' : '**no**'} |`);
  if (R('lib-filter')?.failure || !R('lib-filter')) {
    rows.push('| kernel filter vs unfiltered | ≤ 0.5x | n/a until the kernel filter lands | n/a | n/a |');
  } else {
    const kept = R('lib-filter')!.c.label.replace(/.*keeping /, '');
    ratio(`kernel filter (keeping ${kept}) vs unfiltered, ext`, 0.5, wallOf(R('lib-filter')), wallOf(R('lib-ext')), 'whole process');
    ratio(`kernel filter (keeping ${kept}) vs unfiltered, ext, dump alone`, 0.5, jsonOf(R('lib-filter'), 'ms') / 1000, jsonOf(R('lib-ext'), 'ms') / 1000, 'in-process');
  }
  const lps = jsonOf(R('lookup'), 'perSecond');
  rows.push(`| lookups by 4-tuple, one open socket | ≥ 20,000/s | ${LOOKUPS} \`inetLookup\` calls, in-process | ${Number.isNaN(lps) ? 'n/a' : `${fmtInt(Math.round(lps))}/s`} | ${Number.isNaN(lps) ? 'n/a' : lps >= 20_000 ? 'yes' : '**no**'} |`);
  return rows.join('\n');
}

function sweepTable(all: SizeResult[]): string {
  const head = `| case | ${all.map((s) => `${fmtInt(s.w.sockets)}`).join(' | ')} |`;
  const rows = [head, `| --- | ${all.map(() => '---:').join(' | ')} |`];
  const first = all[0]!;
  for (const id of first.results.keys()) {
    const label = first.results.get(id)!.c.label;
    rows.push(`| ${label} | ${all.map((s) => (s.results.get(id)?.failure ? 'failed' : fmtS(wallOf(s.results.get(id))))).join(' | ')} |`);
  }
  rows.push(`| library dump alone (in-process, sync, ext) | ${all.map((s) => fmtS(jsonOf(s.results.get('lib-ext'), 'ms') / 1000)).join(' | ')} |`);
  rows.push(`| lookups/s | ${all.map((s) => fmtInt(Math.round(jsonOf(s.results.get('lookup'), 'perSecond')))).join(' | ')} |`);
  rows.push(`| async iterator peak RSS | ${all.map((s) => fmtMiB(rssOf(s.results.get('lib-async')))).join(' | ')} |`);
  rows.push(`| sync dump peak RSS | ${all.map((s) => fmtMiB(rssOf(s.results.get('lib-ext')))).join(' | ')} |`);
  return rows.join('\n');
}

function machine(): string {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown';
  const first = (cmd: string, args: string[]) => (spawnSync(cmd, args, { encoding: 'utf8' }).stdout ?? '').split('\n')[0]!.trim();
  const mem = /^MemTotal:\s*(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1];
  const commit = first('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']);
  const dirty = (spawnSync('git', ['-C', ROOT, 'status', '--porcelain', '--untracked-files=no', '--', 'query', 'runtime', 'generated', 'cli'], { encoding: 'utf8' }).stdout ?? '').trim() !== '';
  return [
    `- Code: commit ${commit || 'unknown'}${dirty ? ' with uncommitted changes in query/, runtime/, generated/ or cli/' : ''} (built before the run)`,
    `- CPU: ${model}, ${availableParallelism()} CPUs (nproc)${mem ? `, ${(Number(mem) / 1024 / 1024).toFixed(0)} GiB RAM` : ''}`,
    `- Kernel: Linux ${release()}`,
    `- Node ${process.version}; ${first('ss', ['-V'])}; ${first('gcc', ['--version'])}`,
    `- NODE_EXTRA_CA_CERTS: ${process.env.NODE_EXTRA_CA_CERTS ? `set (${process.env.NODE_EXTRA_CA_CERTS}); every node process but sockdiag's parses it at start-up, see "node -e 0" with and without it` : 'not set'}`,
  ].join('\n');
}

function report(all: SizeResult[], started: Date, totalS: number): string {
  const out: string[] = [];
  out.push('# sockdiag benchmark results', '');
  out.push(`Measured ${started.toISOString().replace(/\.\d+Z$/, 'Z')} by \`npm run bench -- ${process.argv.slice(2).join(' ')}\` (${totalS.toFixed(0)} s in all).`, '');
  out.push(machine(), '');
  out.push(
    '**What N counts.** N is the number of *established TCP sockets* in the dump: N/2 loopback connections, each seen twice (client end and accepted end). ' +
      `The namespace also holds ${PORTS} listening sockets per holder process, so a full dump returns N + ${PORTS}·P sockets ` +
      `(P = ⌈N/17,000⌉ processes; 100,060 sockets at N = 100,000). The library, C and \`--json\` counts are checked against that number before timing.`,
    '',
    `**Method.** Each size sets up the workload once in a private network namespace; every case runs once untimed (warm-up and output check), then ${RUNS} timed rounds run every case once each, in the same order (alternating, not all of one case first). ` +
      'Each run is a whole process under `bench/timeit.c` (fork/exec/wait4: wall time from CLOCK_MONOTONIC, peak RSS from ru_maxrss); GNU time is not used because it prints wall time in hundredths of a second. ' +
      'Tables show medians. Output goes to /dev/null. `ss` runs through `ip netns exec` (floor shown as its own row); `sockdiag`, the C baseline and the library enter the namespace themselves with setns. ' +
      `The JavaScript runs from a snapshot of \`dist/\` taken after \`npm run build\`; \`sockdiag\` is \`${BIN_PATH}\` run as npm links it (the bundled command's launcher: its first lines, sh, drop NODE_EXTRA_CA_CERTS and start node on it; it compiles the bundle with the code cache the build wrote). Before each timed run the harness waits (bounded) for the machine to be quiet, and records how busy it was. ` +
      '"ext" means INET_DIAG_INFO + MEMINFO + SKMEMINFO + CONG were requested. The library rows run plain ESM over the package entry, the bundle in `dist/lib` (`bench/lib-dump.mjs`) and read fields of every decoded record (the "4 fields" rows read only the state, the ports and the rtt of tcp_info, of decoded records or through the views of `inetViews()`); "in-process" is `performance.now()` around the dump loop alone. The library and the command receive long dumps ahead of decoding, so that the work of the kernel overlaps it: on the kernel worker threads of io_uring, unless the row says otherwise.',
    '',
  );
  for (const s of [...all].reverse()) {
    out.push(`## ${fmtInt(s.w.sockets)} sockets (${fmtInt(s.w.expected)} in the dump, ${s.w.processes} holder process${s.w.processes > 1 ? 'es' : ''})`, '');
    const bg = [...s.results.values()].flatMap((r) => r.runs.map((x) => x.background ?? 0));
    const noisy = bg.filter((b) => b >= QUIET).length;
    out.push(
      `Workload setup ${(s.w.setupMs / 1000).toFixed(1)} s; measurement ${s.seconds.toFixed(0)} s. ` +
        `Other load on the machine just before each timed run: median ${(median(bg) * 100).toFixed(0)}% CPU busy, max ${(Math.max(...bg, 0) * 100).toFixed(0)}%` +
        (noisy ? `; ${noisy} of ${bg.length} runs started with ≥ ${(QUIET * 100).toFixed(0)}% busy (after waiting up to 10 s for a quieter moment).` : '.'),
      '',
    );
    out.push('### Targets', '', targetTable(s), '', 'What moved these figures, and why the targets not met are out of reach here: [README.md, "Where we stand"](README.md#where-we-stand).', '');
    out.push('### All cases', '', sizeTable(s), '');
    if (s.profile) out.push('### Where the time goes (profile)', '', s.profile, '');
  }
  if (all.length > 1) {
    out.push('## Sweep (median whole-process wall time)', '', sweepTable(all), '', `Chart: [chart.svg](chart.svg).`, '');
  }
  return out.join('\n');
}

// ---------------------------------------------------------------- main

const started = new Date();
const tStart = performance.now();
const all: SizeResult[] = [];
try {
  for (const size of SIZES) {
    log(`--- ${fmtInt(size)} sockets`);
    const w = await startWorkload(size, log);
    try {
      const t0 = performance.now();
      const results = await measure(w);
      const prof = opt.profile && size === SIZES[SIZES.length - 1] ? await profile(w) : undefined;
      const { stop: _stop, ...info } = w;
      all.push({ w: info, results, profile: prof, seconds: (performance.now() - t0) / 1000 });
    } finally {
      w.stop();
    }
  }
} finally {
  cleanupNow();
}

const text = report(all, started, (performance.now() - tStart) / 1000);
process.stdout.write(text);
const chartSeries: Series[] = [...(all[0]?.results.values() ?? [])]
  .filter((r) => !r.c.noChart)
  .map(({ c }) => ({
    label: c.chart ?? c.label,
    points: all.filter((s) => !s.results.get(c.id)?.failure).map((s) => [s.w.sockets, wallOf(s.results.get(c.id))] as [number, number]),
  }));
const chartTitle = `sockdiag benchmark: wall time vs sockets (${release()}, ${availableParallelism()} CPUs)`;
if (opt.out) {
  writeFileSync(opt.out, text);
  // The raw numbers beside the report: every run of every case, and the chart's data.
  const json = opt.out.replace(/\.md$/, '') + '.json';
  const raw = {
    started: started.toISOString(),
    argv: process.argv.slice(2),
    sizes: all.map((s) => ({
      workload: s.w,
      cases: [...s.results.values()].map((r) => ({
        id: r.c.id,
        label: r.c.label,
        command: r.c.shown,
        failure: r.failure,
        warning: r.warning,
        runs: r.runs.map(({ stdout, stderr: _e, ...x }) => ({ ...x, result: r.c.stdout === 'json' ? JSON.parse(stdout) : r.c.stdout === 'text' ? stdout.trim() : undefined })),
      })),
    })),
    chart: { title: chartTitle, series: chartSeries },
  };
  writeFileSync(json, JSON.stringify(raw, null, 1) + '\n');
  log(`wrote ${opt.out} and ${json}`);
}
if (all.length > 1) {
  writeFileSync(opt.chart, renderChart(chartSeries, chartTitle));
  log(`wrote ${opt.chart}`);
}
