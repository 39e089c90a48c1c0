/**
 * The text table's fast paths (ready-made padding, trimming only tails that may end
 * in white space, shared leading cells) print what the plain padStart/padEnd/trimEnd
 * formatting prints, for any cells; and the helpers behind them agree with the
 * builtins they replace.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { g, millis } from '../../cli/details.js';
import { Output } from '../../cli/output.js';
import { padEnd, padStart, spaced, spaces } from '../../cli/strings.js';
import { TextTable, type TextRow } from '../../cli/text.js';

/** Collects what is written, instead of writing it. */
class Capture extends Output {
  text = '';
  override write(text: string): void {
    this.text += text;
  }
  override flush(): void {}
}

/** The table as padStart/padEnd/trimEnd print it: each row on its own, widths from all rows. */
function reference(rows: TextRow[], columns: { netid: boolean; state: boolean; oneline: boolean }): string {
  const keys = ['netid', 'state', 'recvQ', 'sendQ', 'localAddr', 'localPort', 'peerAddr', 'peerPort'] as const;
  const w = Object.fromEntries(keys.map((k) => [k, Math.max(0, ...rows.map((r) => r[k].length))])) as Record<(typeof keys)[number], number>;
  let out = '';
  for (const r of rows) {
    let line = '';
    if (columns.netid) line += r.netid.padEnd(w.netid) + ' ';
    if (columns.state) line += r.state.padEnd(w.state) + ' ';
    line += r.recvQ.padEnd(w.recvQ) + ' ' + r.sendQ.padEnd(w.sendQ) + ' ';
    // -O: the line under the row at the end of the row's own, after the tail.
    const tail = columns.oneline ? [r.tail, r.more].filter((p) => p !== '').join(' ') : r.tail;
    line += `${r.localAddr.padStart(w.localAddr)}${r.sep}${r.localPort.padEnd(w.localPort)} ${r.peerAddr.padStart(w.peerAddr)}${r.peerSep ?? r.sep}${r.peerPort.padEnd(w.peerPort)} ${tail}`;
    out += line.trimEnd() + '\n';
    if (r.more !== '' && !columns.oneline) out += `\t ${r.more}\n`;
  }
  return out;
}

// Cells with white space where trimEnd would see it: ASCII, tab, no-break and ideographic spaces.
const cell = fc.string({ unit: fc.constantFrom('a', '1', '*', ':', ' ', '\t', '\u00a0', '\u3000', 'é'), maxLength: 6 });
const row = fc.record({
  netid: fc.constantFrom('tcp', 'u_str', 'nl'),
  state: fc.constantFrom('ESTAB', 'LISTEN', 'UNCONN'),
  recvQ: fc.constantFrom('0', '12', '123456'),
  sendQ: fc.constantFrom('0', '7'),
  localAddr: cell,
  localPort: cell,
  peerAddr: cell,
  peerPort: cell,
  sep: fc.constantFrom(':', ' '),
  peerSep: fc.option(fc.constantFrom(':', ''), { nil: undefined }),
  tail: fc.oneof(fc.constant(''), cell),
  more: fc.oneof(fc.constant(''), cell),
});

describe('TextTable', () => {
  it('prints what padStart, padEnd and trimEnd print, for any cells, with and without -O', () => {
    fc.assert(
      fc.property(fc.array(row, { maxLength: 12 }), fc.boolean(), fc.boolean(), fc.boolean(), (rows, netid, state, oneline) => {
        const out = new Capture();
        const table = new TextTable(out, { netid, state, header: false, oneline }, rows.length + 1);
        for (const r of rows) table.add(r);
        table.end();
        expect(out.text).toBe(reference(rows, { netid, state, oneline }));
      }),
      { numRuns: 3000, seed: 20261205 },
    );
  });
});

describe('text helpers', () => {
  it('pad as padStart and padEnd do, past the ready-made runs too', () => {
    for (const text of ['', 'a', 'abc', ' x ']) {
      for (const width of [-1, 0, 1, 3, 5, 128, 129, 300]) {
        expect(padEnd(text, width)).toBe(text.padEnd(width));
        expect(padStart(text, width)).toBe(text.padStart(width));
      }
    }
    expect(spaces(-3)).toBe('');
  });

  it('spaced joins what is not empty with one space', () => {
    for (const [a, b] of [['', ''], ['a', ''], ['', 'b'], ['a', 'b'], [' ', '']] as [string, string][]) expect(spaced(a, b)).toBe([a, b].filter((p) => p !== '').join(' '));
  });

  it('millis(us) is g(us / 1000), on both sides of its fast path', () => {
    for (const us of [0, 1, 5, 10, 50, 500, 999, 1000, 1001, 23456, 204000, 999999, 1000000, 1000001, 1234567, 4294967295, 2.5, -1]) expect(millis(us)).toBe(g(us / 1000));
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (us) => millis(us) === g(us / 1000)), { numRuns: 20000, seed: 11 });
  });
});

describe('Output', () => {
  it('writes UTF-8, short and longer than its reused buffer', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sockdiag-output-'));
    try {
      const file = join(dir, 'out');
      const fd = openSync(file, 'w');
      const out = new Output(fd);
      const parts = ['ascii\n', 'é ü € 𝄞\n', 'x'.repeat(70_000) + '\n', '€'.repeat(200_000) + '\n', 'end\n'];
      for (const p of parts) out.write(p);
      out.flush();
      closeSync(fd);
      expect(readFileSync(file, 'utf8')).toBe(parts.join(''));
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});
