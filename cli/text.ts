/**
 * The ss-style table: columns sized from the first rows, then streamed. Addresses
 * are right-aligned before the colon and ports left-aligned after it, as ss does.
 */
import type { Output } from './output.js';
import { padEnd, padStart, spaced } from './strings.js';

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
  /** The line printed under the row, indented with a tab (-i, -m); '' for none. */
  more: string;
  /** Lines under the row before `more`, each after a bare tab (PACKET -e details, --inet-sockopt). */
  lines?: readonly string[];
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
  more: '',
};

type Widths = Record<'netid' | 'state' | 'recvQ' | 'sendQ' | 'localAddr' | 'localPort' | 'peerAddr' | 'peerPort', number>;

export class TextTable {
  private pending: TextRow[] = [];
  private widths?: Widths;
  /** The Netid, State, Recv-Q and Send-Q cells of the last row printed: consecutive rows mostly share them. */
  private lead?: { netid: string; state: string; recvQ: string; sendQ: string; text: string };

  constructor(
    private readonly out: Output,
    /** Which columns to show; `oneline`: the line under a row (`more`) at the end of the row's own (-O). */
    private readonly columns: { netid: boolean; state: boolean; header: boolean; oneline?: boolean },
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
    if (this.columns.header) this.printHeader();
    for (const r of this.pending) this.print(r);
    this.pending = [];
  }

  /** The header: `Local Address:Port` right-aligned over both columns. */
  private printHeader(): void {
    const w = this.widths!;
    const r = HEADER;
    const line = this.leadCells(r) + padStart(`${r.localAddr}:${r.localPort}`, w.localAddr + 1 + w.localPort) + ' ' + padStart(`${r.peerAddr}:${r.peerPort}`, w.peerAddr + 1 + w.peerPort) + ' ' + r.tail;
    this.out.write(line.trimEnd() + '\n');
  }

  private print(r: TextRow): void {
    const w = this.widths!;
    let line = this.leadCells(r) + padStart(r.localAddr, w.localAddr) + r.sep + padEnd(r.localPort, w.localPort) + ' ' + padStart(r.peerAddr, w.peerAddr) + (r.peerSep ?? r.sep);
    const oneline = this.columns.oneline === true;
    const tail = oneline ? spaced(spaced(r.tail, r.lines?.join(' ') ?? ''), r.more) : r.tail;
    // ss prints no white space at the end of a line: without a tail, the peer port is not padded.
    line += tail === '' ? r.peerPort : padEnd(r.peerPort, w.peerPort) + ' ' + tail;
    // Reading the last character also flattens the line while its pieces are at hand, which makes the chunk cheaper to encode.
    if (!endsPrintable(line)) line = line.trimEnd();
    let text = line + '\n';
    if (!oneline) {
      if (r.lines) for (const l of r.lines) text += '\t' + l + '\n';
      if (r.more !== '') text += '\t ' + r.more + '\n';
    }
    this.out.write(text);
  }

  /** The padded Netid, State, Recv-Q and Send-Q cells, each followed by a space (the Netid and State ones when shown). */
  private leadCells(r: TextRow): string {
    const lead = this.lead;
    if (lead && r.netid === lead.netid && r.state === lead.state && r.recvQ === lead.recvQ && r.sendQ === lead.sendQ) return lead.text;
    const w = this.widths!;
    let text = '';
    if (this.columns.netid) text += padEnd(r.netid, w.netid) + ' ';
    if (this.columns.state) text += padEnd(r.state, w.state) + ' ';
    text += padEnd(r.recvQ, w.recvQ) + ' ' + padEnd(r.sendQ, w.sendQ) + ' ';
    this.lead = { netid: r.netid, state: r.state, recvQ: r.recvQ, sendQ: r.sendQ, text };
    return text;
  }
}

/** Whether the text ends in printable ASCII, which trimEnd would leave (anything else may be white space). */
function endsPrintable(text: string): boolean {
  const last = text.charCodeAt(text.length - 1);
  return last > 0x20 && last < 0x7f;
}
