/**
 * `--json` and `--ndjson`: each socket as the library's record, plus `netid` (and
 * `users` with -p). Numbers that can exceed 2^53 (bigints: cookies, byte counters)
 * become decimal strings; byte strings (Uint8Array) become lowercase hex.
 * The shape is described by cli/output.schema.json.
 */
import type { AnySocket } from './rows.js';
import type { Output } from './output.js';
import type { SocketUser } from './processes.js';
import { bytesToHex, JsonText, Shape } from './json-text.js';

/** One socket of the JSON output. */
export type JsonSocket = Record<string, unknown> & { netid: string };

/**
 * Teaches JSON.stringify the two kinds of value JSON has no form for: bigint as a
 * decimal string, Uint8Array as hex. Installed on the prototypes once, in the
 * command's own process: a replacer function would do the same but turns off V8's
 * fast serializer, which made `--json` twice as slow. Records are written by
 * JsonText (cli/json-text.ts), which writes the same forms itself and hands
 * JSON.stringify only what it does not walk.
 */
function installJsonForms(): void {
  const big = BigInt.prototype as unknown as { toJSON?: (this: bigint) => string };
  big.toJSON ??= function () {
    return this.toString();
  };
  const bytes = Uint8Array.prototype as unknown as { toJSON?: (this: Uint8Array) => string };
  bytes.toJSON ??= bytesToHex;
}
installJsonForms();

/** The writer socketJson reuses: its buffer and its escaped keys. */
const text = new JsonText();
/** The keys of the records seen so far, and of their `users`. */
const recordShape = new Shape();
const usersShape = new Shape();

/**
 * The JSON text of one socket: `netid` first, the record's fields, then `users` when
 * given: byte for byte what JSON.stringify of each part (with the forms of
 * installJsonForms) joined together gives, written by JsonText in about a quarter
 * less time.
 */
export function socketJson(netid: string, s: AnySocket, users?: SocketUser[]): string {
  text.raw('{');
  text.key('netid');
  text.value(netid);
  text.fields(s, false, recordShape);
  if (users) {
    text.raw(',');
    text.key('users');
    text.value(users, usersShape);
  }
  text.raw('}');
  return text.take();
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
