/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): functions by self time,
 * and self time by file. Standalone: `tsx bench/profile.ts FILE.cpuprofile [TOP]`.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT } from './tools.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface ProfileEntry {
  name: string;
  where: string;
  selfMs: number;
  share: number;
}

export interface ProfileSummary {
  totalMs: number;
  functions: ProfileEntry[];
  files: ProfileEntry[];
}

function place(url: string, root: string): string {
  if (url === '') return '';
  if (url.startsWith('node:')) return url;
  try {
    const path = url.startsWith('file://') ? fileURLToPath(url) : url;
    const rel = relative(root, path);
    return rel.startsWith('..') ? path : rel;
  } catch {
    return url;
  }
}

/** Self time per function (name + location) and per file, largest first. */
export function summarise(file: string, top = 15, root = ROOT): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  // timeDeltas[i] is the time before sample i; charge each sample the time until the next.
  for (let i = 0; i < samples.length; i++) {
    const dt = deltas[i + 1] ?? 0;
    selfUs.set(samples[i]!, (selfUs.get(samples[i]!) ?? 0) + Math.max(0, dt));
  }
  const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0) || 1;
  const fns = new Map<string, ProfileEntry>();
  const files = new Map<string, ProfileEntry>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (!n) continue;
    const { functionName, url, lineNumber } = n.callFrame;
    const where = place(url, root);
    const name = functionName || (url ? '(anonymous)' : '(native)');
    const key = `${name}\0${where}\0${lineNumber}`;
    const at = where ? `${where}:${lineNumber + 1}` : '';
    const f = fns.get(key) ?? { name, where: at, selfMs: 0, share: 0 };
    f.selfMs += us / 1000;
    fns.set(key, f);
    const fileKey = where || name;
    const g = files.get(fileKey) ?? { name: fileKey, where: '', selfMs: 0, share: 0 };
    g.selfMs += us / 1000;
    files.set(fileKey, g);
  }
  const rank = (m: Map<string, ProfileEntry>) =>
    [...m.values()]
      .map((e) => ({ ...e, share: (e.selfMs * 1000) / totalUs }))
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, top);
  return { totalMs: totalUs / 1000, functions: rank(fns), files: rank(files) };
}

/** The summary as Markdown tables. */
export function profileMarkdown(s: ProfileSummary): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const lines = [
    `Sampled time: ${s.totalMs.toFixed(0)} ms.`,
    '',
    '| self ms | share | function | location |',
    '| ---: | ---: | --- | --- |',
    ...s.functions.map((e) => `| ${e.selfMs.toFixed(1)} | ${pct(e.share)} | \`${e.name}\` | ${e.where ? `\`${e.where}\`` : ''} |`),
    '',
    '| self ms | share | file |',
    '| ---: | ---: | --- |',
    ...s.files.map((e) => `| ${e.selfMs.toFixed(1)} | ${pct(e.share)} | \`${e.name}\` |`),
  ];
  return lines.join('\n');
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: tsx bench/profile.ts FILE.cpuprofile [TOP]\n');
    process.exit(2);
  }
  process.stdout.write(profileMarkdown(summarise(file, Number(process.argv[3] ?? 15))) + '\n');
}
