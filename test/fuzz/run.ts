/**
 * `npm run fuzz`: the on-demand decoder fuzz. Feeds hostile bytes (truncated,
 * over-long, zero-length, misaligned, corrupt length fields, deep nests, random) to
 * every generated struct and attribute-set decoder, the netlink framing
 * (`parseMessages` + `Reply.step`) and the message decoders of the query API, in
 * worker threads with a watchdog (see test/fuzz/core.ts for what counts as a pass).
 * Prints the cases run, the time and the outcomes; exits 1 on any failure.
 *
 *   npm run fuzz                          # 1,000,000 cases, a random seed (printed)
 *   npm run fuzz -- --cases 200000 --seed 42 --workers 2
 *   npm run fuzz -- --save                # write each failure as test/fixtures/regressions/fuzz-*.json
 *
 * A saved failure becomes a regression case of test/hardening/regressions.test.ts;
 * rename it after the bug and fill in its description.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO } from './core.js';
import { formatReport, runFuzz } from './runner.js';

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '1000000' },
    seed: { type: 'string' },
    workers: { type: 'string', default: String(availableParallelism()) },
    'slow-ms': { type: 'string', default: '250' },
    'hang-ms': { type: 'string', default: '10000' },
    save: { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});

const num = (name: string, v: string | undefined, min: number): number => {
  const n = Number(v?.replace(/[_,]/g, ''));
  if (!Number.isSafeInteger(n) || n < min) {
    process.stderr.write(`fuzz: --${name} must be an integer >= ${min}, not ${JSON.stringify(v)}\n`);
    process.exit(2);
  }
  return n;
};

const cases = num('cases', values.cases, 1);
const seed = values.seed === undefined ? (Math.random() * 2 ** 31) | 0 : num('seed', values.seed, -(2 ** 31));
const workers = num('workers', values.workers, 1);
process.stderr.write(`fuzz: ${cases.toLocaleString('en-US')} cases, seed ${seed}, ${workers} worker(s)\n`);

let lastPrint = 0;
const report = await runFuzz({
  cases,
  seed,
  workers,
  slowMs: num('slow-ms', values['slow-ms'], 1),
  hangMs: num('hang-ms', values['hang-ms'], 100),
  onProgress: (n) => {
    const now = performance.now();
    if (process.stderr.isTTY && now - lastPrint > 500) {
      lastPrint = now;
      process.stderr.write(`\r  ${n.toLocaleString('en-US')} / ${cases.toLocaleString('en-US')}`);
    }
  },
});
if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
console.log(formatReport(report));

if (values.json) writeFileSync(values.json, JSON.stringify(report, null, 2) + '\n');

if (values.save) {
  const dir = join(REPO, 'test/fixtures/regressions');
  mkdirSync(dir, { recursive: true });
  for (const f of report.failures) {
    if (!f.case) continue;
    const id = createHash('sha256').update(JSON.stringify(f.case)).digest('hex').slice(0, 10);
    const file = join(dir, `fuzz-${f.target.replace(/[^a-z0-9]+/gi, '-')}-${id}.json`);
    if (existsSync(file)) continue;
    const fixture = {
      name: `fuzz-${f.target}-${id}`,
      description: `found by npm run fuzz (seed ${seed}): ${f.kind}: ${f.reason}`,
      found: new Date().toISOString().slice(0, 10),
      case: f.case,
    };
    writeFileSync(file, JSON.stringify(fixture, null, 2) + '\n');
    console.log(`saved ${file}`);
  }
}
process.exitCode = report.failures.length ? 1 : 0;
