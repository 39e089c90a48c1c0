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
const shared = new JsonText();
/** The keys of the records seen so far, and of their `users`. */
const recordShape = new Shape();
const usersShape = new Shape();
/** How many bytes JsonWriter collects before it hands them to the output. */
const CHUNK = 64 * 1024;

/**
 * The JSON text of one socket: `netid` first, the record's fields, then `users` when
 * given: byte for byte what JSON.stringify of each part (with the forms of
 * installJsonForms) joined together gives, written by JsonText in about a quarter
 * less time.
 */
export function socketJson(netid: string, s: AnySocket, users?: SocketUser[]): string {
  writeSocket(shared, netid, s, users);
  return shared.take();
}

/** Writes {@link socketJson}'s text into `text`. */
function writeSocket(text: JsonText, netid: string, s: AnySocket, users?: SocketUser[]): void {
  text.raw('{"netid":');
  text.value(netid);
  text.fields(s, false, recordShape);
  if (users) {
    text.raw(',"users":');
    text.value(users, usersShape);
  }
  text.raw('}');
}

/**
 * Streams one JSON document (`--json`: an array) or one object per line
 * (`--ndjson`). The text goes to the output as the bytes JsonText wrote, in chunks,
 * never as strings: 2 KB of JSON per TCP socket made that conversion costly.
 */
export class JsonWriter {
  private count = 0;
  private readonly text = new JsonText();

  constructor(
    private readonly out: Output,
    private readonly lines: boolean,
  ) {}

  /** Adds one socket ({@link socketJson}). */
  add(netid: string, s: AnySocket, users?: SocketUser[]): void {
    if (!this.lines) this.text.raw(this.count === 0 ? '[\n' : ',\n');
    writeSocket(this.text, netid, s, users);
    if (this.lines) this.text.raw('\n');
    this.count++;
    if (this.text.size >= CHUNK) this.flush();
  }

  /** Hands the sockets added so far to the output. */
  flush(): void {
    this.out.writeBytes(this.text.takeBytes());
  }

  /** Ends the document and hands everything over to the output. */
  end(): void {
    if (!this.lines) this.text.raw(this.count === 0 ? '[]\n' : '\n]\n');
    this.flush();
  }
}
