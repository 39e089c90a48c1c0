/** `-s`: counts of sockets by table and state. */
import type { Output } from './output.js';
import { STATE_LABEL } from './states.js';

export class Summary {
  private readonly counts = new Map<string, Map<string, number>>();
  private total = 0;

  add(netid: string, state: string): void {
    const byState = this.counts.get(netid) ?? new Map<string, number>();
    byState.set(state, (byState.get(state) ?? 0) + 1);
    this.counts.set(netid, byState);
    this.total++;
  }

  print(out: Output): void {
    out.write(`Total: ${this.total}\n\n`);
    const rows = [...this.counts].map(([netid, byState]) => {
      const parts = [...byState].map(([state, n]) => `${STATE_LABEL[state] ?? state} ${n}`);
      const n = [...byState.values()].reduce((a, b) => a + b, 0);
      return `${netid.padEnd(6)} ${String(n).padStart(7)}  (${parts.join(', ')})`;
    });
    out.write(`Netid    Total  States\n${rows.join('\n')}${rows.length ? '\n' : ''}`);
  }

  toJSON(): Record<string, unknown> {
    return { total: this.total, tables: Object.fromEntries([...this.counts].map(([k, v]) => [k, Object.fromEntries(v)])) };
  }
}
