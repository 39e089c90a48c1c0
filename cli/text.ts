/**
 * The ss-style table: columns sized from the first rows, then streamed. Addresses
 * are right-aligned before the colon and ports left-aligned after it, as ss does.
 */
import type { Output } from './output.js';

/** One line of the table, as text. */
export interface TextRow {
  netid: string;
  state: string;
  recvQ: string;
  sendQ: string;
  localAddr: string;
  localPort: string;
  peerAddr: string;
  peerPort: string;
  /** Between address and port: ':' for INET, ' ' for UNIX (name, then inode). */
  sep: string;
  /** The same for the peer, when it differs (netlink and packet peers are a bare `*`). */
  peerSep?: string;
  /** Process, extended details and timers, printed after the addresses. */
  tail: string;
  /** Lines printed under the row, indented with a tab (-i, -m). */
  more: string[];
}

/** How many rows decide the column widths before the table starts streaming. */
const SIZING_ROWS = 512;

const HEADER: TextRow = {
  netid: 'Netid',
  state: 'State',
  recvQ: 'Recv-Q',
  sendQ: 'Send-Q',
  localAddr: 'Local Address',
  localPort: 'Port',
  peerAddr: 'Peer Address',
  peerPort: 'Port',
  sep: ':',
  tail: 'Process',
  more: [],
};

type Widths = Record<'netid' | 'state' | 'recvQ' | 'sendQ' | 'localAddr' | 'localPort' | 'peerAddr' | 'peerPort', number>;

export class TextTable {
  private pending: TextRow[] = [];
  private widths?: Widths;

  constructor(
    private readonly out: Output,
    private readonly columns: { netid: boolean; state: boolean; header: boolean },
    /** How many rows decide the column widths; 1 prints every row at once (for events). */
    private readonly sizingRows = SIZING_ROWS,
  ) {}

  add(row: TextRow): void {
    if (this.widths) this.print(row);
    else {
      this.pending.push(row);
      if (this.pending.length >= this.sizingRows) this.start();
    }
  }

  /** Prints what is still held back for sizing. */
  end(): void {
    if (!this.widths) this.start();
  }

  private start(): void {
    const rows = this.columns.header ? [HEADER, ...this.pending] : this.pending;
    const w = (k: keyof Widths) => Math.max(0, ...rows.map((r) => r[k].length));
    this.widths = { netid: w('netid'), state: w('state'), recvQ: w('recvQ'), sendQ: w('sendQ'), localAddr: w('localAddr'), localPort: w('localPort'), peerAddr: w('peerAddr'), peerPort: w('peerPort') };
    if (this.columns.header) this.print(HEADER, true);
    for (const r of this.pending) this.print(r);
    this.pending = [];
  }

  private print(r: TextRow, header = false): void {
    const w = this.widths!;
    let line = '';
    if (this.columns.netid) line += r.netid.padEnd(w.netid) + ' ';
    if (this.columns.state) line += r.state.padEnd(w.state) + ' ';
    line += r.recvQ.padEnd(w.recvQ) + ' ' + r.sendQ.padEnd(w.sendQ) + ' ';
    if (header) {
      const local = `${r.localAddr}:${r.localPort}`;
      const peer = `${r.peerAddr}:${r.peerPort}`;
      line += local.padStart(w.localAddr + 1 + w.localPort) + ' ' + peer.padStart(w.peerAddr + 1 + w.peerPort) + ' ' + r.tail;
    } else {
      line += `${r.localAddr.padStart(w.localAddr)}${r.sep}${r.localPort.padEnd(w.localPort)} ${r.peerAddr.padStart(w.peerAddr)}${r.peerSep ?? r.sep}${r.peerPort.padEnd(w.peerPort)} ${r.tail}`;
    }
    this.out.write(line.trimEnd() + '\n');
    for (const m of r.more) this.out.write(`\t ${m}\n`);
  }
}
