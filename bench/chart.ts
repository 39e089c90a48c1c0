import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * A hand-written SVG line chart: wall time against socket count, one line per
 * tool, both axes logarithmic (the times span milliseconds to seconds).
 */

export interface Series {
  label: string;
  /** [socket count, seconds] */
  points: [number, number][];
}

/** Line styles by tool: floors dotted grey, C dashed blue, ss dashed red, library solid green, sockdiag solid orange/purple. */
const GROUPS: { test: RegExp; colors: string[]; dash: string }[] = [
  { test: /^(node -e 0|ip netns exec|library loaded)/, colors: ['#777777', '#aaaaaa', '#444444'], dash: '2 4' },
  { test: /^C baseline/, colors: ['#1f77b4', '#6baed6', '#08306b', '#4292c6'], dash: '7 4' },
  { test: /^ss /, colors: ['#d62728', '#7f0000'], dash: '7 4' },
  { test: /^library/, colors: ['#2ca02c', '#74c476', '#00441b', '#000000'], dash: '' },
  { test: /^sockdiag/, colors: ['#ff7f0e', '#9467bd', '#8c564b'], dash: '' },
];
const OTHER = ['#e377c2', '#bcbd22', '#17becf'];

function styles(labels: string[]): { color: string; dash: string }[] {
  const used = new Map<number, number>();
  let other = 0;
  return labels.map((label) => {
    const g = GROUPS.findIndex((x) => x.test.test(label));
    if (g < 0) return { color: OTHER[other++ % OTHER.length]!, dash: '' };
    const n = used.get(g) ?? 0;
    used.set(g, n + 1);
    const group = GROUPS[g]!;
    return { color: group.colors[n % group.colors.length]!, dash: group.dash };
  });
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function decades(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) out.push(10 ** e);
  return out;
}

function timeLabel(s: number): string {
  if (s >= 1) return `${s} s`;
  const ms = s * 1000;
  return ms >= 1 ? `${+ms.toPrecision(3)} ms` : `${+(ms * 1000).toPrecision(3)} µs`;
}

function countLabel(n: number): string {
  return n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n);
}

/** The chart's SVG text. */
export function renderChart(series: Series[], title: string): string {
  const W = 980;
  const H = 520;
  const m = { left: 70, right: 310, top: 40, bottom: 50 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1])).filter((y) => y > 0);
  if (xs.length === 0 || ys.length === 0) return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><text x="20" y="40">no data</text></svg>\n`;
  const xLo = Math.min(...xs) / 1.3;
  const xHi = Math.max(...xs) * 1.3;
  const yLo = 10 ** Math.floor(Math.log10(Math.min(...ys)));
  const yHi = 10 ** Math.ceil(Math.log10(Math.max(...ys)));
  const X = (x: number) => m.left + ((Math.log10(x) - Math.log10(xLo)) / (Math.log10(xHi) - Math.log10(xLo))) * pw;
  const Y = (y: number) => m.top + ph - ((Math.log10(y) - Math.log10(yLo)) / (Math.log10(yHi) - Math.log10(yLo))) * ph;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${m.left}" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`);
  // Grid and ticks.
  for (const y of decades(yLo, yHi)) {
    if (y < yLo || y > yHi) continue;
    out.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${Y(y).toFixed(1)}" y2="${Y(y).toFixed(1)}" stroke="#ddd"/>`);
    out.push(`<text x="${m.left - 6}" y="${(Y(y) + 4).toFixed(1)}" text-anchor="end">${esc(timeLabel(y))}</text>`);
    for (const k of [2, 5]) {
      const yy = y * k;
      if (yy < yHi) out.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${Y(yy).toFixed(1)}" y2="${Y(yy).toFixed(1)}" stroke="#f1f1f1"/>`);
    }
  }
  for (const x of [...new Set(xs)].sort((a, b) => a - b)) {
    out.push(`<line x1="${X(x).toFixed(1)}" x2="${X(x).toFixed(1)}" y1="${m.top}" y2="${m.top + ph}" stroke="#ddd"/>`);
    out.push(`<text x="${X(x).toFixed(1)}" y="${m.top + ph + 18}" text-anchor="middle">${esc(countLabel(x))}</text>`);
  }
  out.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${m.left + pw / 2}" y="${H - 12}" text-anchor="middle">established TCP sockets in the dump (log scale)</text>`);
  out.push(`<text transform="translate(16 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">whole-process wall time, median (log scale)</text>`);
  // Lines and legend.
  const style = styles(series.map((s) => s.label));
  series.forEach((s, i) => {
    const color = style[i]!.color;
    const dash = style[i]!.dash ? ` stroke-dasharray="${style[i]!.dash}"` : '';
    const pts = s.points.filter((p) => p[1] > 0).sort((a, b) => a[0] - b[0]);
    if (pts.length > 1) {
      out.push(`<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${pts.map((p) => `${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join(' ')}"/>`);
    }
    for (const p of pts) out.push(`<circle cx="${X(p[0]).toFixed(1)}" cy="${Y(p[1]).toFixed(1)}" r="3" fill="${color}"><title>${esc(`${s.label}: ${countLabel(p[0])} sockets, ${timeLabel(+p[1].toPrecision(3))}`)}</title></circle>`);
    const ly = m.top + 10 + i * 20;
    const lx = m.left + pw + 16;
    out.push(`<line x1="${lx}" x2="${lx + 24}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${lx + 30}" y="${ly + 4}">${esc(s.label)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** Re-draws a chart from the JSON a run wrote next to its report: `tsx bench/chart.ts RESULTS.json OUT.svg`. */
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [input, output] = process.argv.slice(2);
  if (!input || !output) {
    process.stderr.write('usage: tsx bench/chart.ts RESULTS.json OUT.svg\n');
    process.exit(2);
  }
  const data = JSON.parse(readFileSync(input, 'utf8')) as { chart: { title: string; series: Series[] } };
  writeFileSync(output, renderChart(data.chart.series, data.chart.title));
}
