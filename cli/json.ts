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

/**
 * Teaches JSON.stringify the two kinds of value JSON has no form for: bigint as a
 * decimal string, Uint8Array as hex. Installed on the prototypes once, in the
 * command's own process: a replacer function would do the same but turns off V8's
 * fast serializer, which made `--json` twice as slow.
 */
function installJsonForms(): void {
  const big = BigInt.prototype as unknown as { toJSON?: (this: bigint) => string };
  big.toJSON ??= function () {
    return this.toString();
  };
  const bytes = Uint8Array.prototype as unknown as { toJSON?: (this: Uint8Array) => string };
  bytes.toJSON ??= function () {
    return Buffer.from(this.buffer, this.byteOffset, this.byteLength).toString('hex');
  };
}
installJsonForms();

/** The JSON text of one socket: `netid` first, the record's fields, then `users` when given. */
export function socketJson(netid: string, s: AnySocket, users?: SocketUser[]): string {
  const body = JSON.stringify(s);
  const fields = body.length > 2 ? `,${body.slice(1, -1)}` : '';
  return `{"netid":${JSON.stringify(netid)}${fields}${users ? `,"users":${JSON.stringify(users)}` : ''}}`;
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
