/**
 * `npm run schema:diff`: compares every schema file with the kernel's C headers
 * (values, struct layouts, and the diag headers' names the schema lacks) and prints
 * a table. Exits 1 when something conflicts or is missing, 0 otherwise, and 2 when the
 * schema does not load or the compiler cannot be run.
 *
 * Options: `--headers DIR` (repeatable; an include tree such as a kernel checkout's
 * `include/uapi`, searched before the compiler's own; default `/usr/include`),
 * `--schema DIR`, `--json`, `--suggest` (YAML stubs for the missing names),
 * `--all` (also list the items that agree), `--cc COMPILER`.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadSchema } from '../load.js';
import { SchemaError } from '../yaml-check.js';
import { diffSchema, failed, failures, type DiffResult, type DiffRow, type Verdict } from './diff.js';
import { formatStubs, suggest } from './suggest.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const order: Verdict[] = ['conflict', 'not-in-headers', 'not-in-schema', 'newer', 'omitted', 'ok'];
const labels: Record<Verdict, string> = {
  conflict: 'CONFLICT',
  'not-in-headers': "MISSING: schema has it, headers don't",
  'not-in-schema': "MISSING: headers have it, schema doesn't",
  newer: 'newer than headers',
  omitted: 'omitted',
  ok: 'ok',
};

/** The result as a table (item, schema, headers, verdict), then the headers not modelled yet, then a summary. */
export function formatTable(result: DiffResult, all = false): string {
  const rows = result.rows
    .filter((r) => all || r.verdict !== 'ok')
    .sort((a, b) => order.indexOf(a.verdict) - order.indexOf(b.verdict));
  const cells = (r: DiffRow) => [r.file, r.item, r.schema || '-', r.headers || '-', labels[r.verdict] + (r.note ? ` (${r.note})` : '')];
  const table = [['FILE', 'ITEM', 'SCHEMA', 'HEADERS', 'VERDICT'], ...rows.map(cells)];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...table.map((t) => t[i]!.length)));
  const lines = [`schema:diff against ${result.headerDirs.join(', ')} (Linux ${result.version ?? 'version unknown'})`, ''];
  if (rows.length > 0) lines.push(...table.map((t) => t.map((c, i) => (i < 4 ? c.padEnd(widths[i]!) : c)).join('  ').trimEnd()), '');
  if (result.notModelled.length > 0) {
    lines.push('Not modelled yet (no schema file names these headers in c-header):');
    for (const n of result.notModelled) lines.push(`  ${n.header}  ${n.items} names`);
    lines.push('');
  }
  const count = (v: Verdict) => result.rows.filter((r) => r.verdict === v).length;
  lines.push(
    `${count('ok')} ok, ${count('conflict')} conflict${count('conflict') === 1 ? '' : 's'}, ${count('not-in-headers') + count('not-in-schema')} missing ` +
      `(${count('not-in-headers')} not in headers, ${count('not-in-schema')} not in schema), ` +
      `${count('newer')} newer than headers, ${count('omitted')} omitted`,
  );
  return lines.join('\n') + '\n';
}

/** The result as JSON: every row, the headers not modelled yet, and a summary. */
export function formatJson(result: DiffResult): string {
  const summary = Object.fromEntries(order.map((v) => [v, result.rows.filter((r) => r.verdict === v).length]));
  const { missing: _, ...rest } = result;
  return JSON.stringify({ ok: !failed(result), summary, failures: [...failures], ...rest }, null, 2) + '\n';
}

/** Runs the command with `argv` (without node and script); returns the exit code. */
export function main(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: {
      headers: { type: 'string', multiple: true },
      schema: { type: 'string' },
      json: { type: 'boolean' },
      suggest: { type: 'boolean' },
      all: { type: 'boolean' },
      cc: { type: 'string' },
    },
  });
  let schema;
  try {
    schema = loadSchema(resolve(values.schema ?? join(root, 'schema')));
  } catch (e) {
    if (!(e instanceof SchemaError)) throw e;
    process.stderr.write(`${e.message}\nThe schema does not load; fix it first (npm run generate shows the same problems).\n`);
    return 2;
  }
  let result: DiffResult;
  try {
    result = diffSchema(schema, { dirs: (values.headers ?? ['/usr/include']).map((d) => resolve(d)), cc: values.cc });
  } catch (e) {
    process.stderr.write(`schema:diff: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  if (values.suggest) {
    const stubs = suggest(schema, result);
    process.stdout.write(values.json ? JSON.stringify(stubs, null, 2) + '\n' : formatStubs(stubs));
  } else process.stdout.write(values.json ? formatJson(result) : formatTable(result, values.all));
  return failed(result) ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = main(process.argv.slice(2));
