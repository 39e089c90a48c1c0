/**
 * `--json` and `--ndjson`: each socket as the library's record, plus `netid` (and
 * `users` with -p). Numbers that can exceed 2^53 (bigints: cookies, byte counters)
 * become decimal strings; byte strings (Uint8Array) become lowercase hex.
 * The shape is described by cli/output.schema.json.
 */
import type { AnySocket } from './rows.js';
import type { Output } from './output.js';
import type { SocketUser } from './processes.js';

/** One socket of the JSON output. */
export type JsonSocket = Record<string, unknown> & { netid: string };

function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
  return value;
}

/** The JSON text of one socket. */
export function socketJson(netid: string, s: AnySocket, users?: SocketUser[]): string {
  return JSON.stringify(users ? { netid, ...s, users } : { netid, ...s }, replacer);
}

/** Streams one JSON document (`--json`: an array) or one object per line (`--ndjson`). */
export class JsonWriter {
  private count = 0;

  constructor(
    private readonly out: Output,
    private readonly lines: boolean,
  ) {}

  add(json: string): void {
    if (this.lines) this.out.write(json + '\n');
    else this.out.write((this.count === 0 ? '[\n' : ',\n') + json);
    this.count++;
  }

  end(): void {
    if (!this.lines) this.out.write(this.count === 0 ? '[]\n' : '\n]\n');
  }
}
