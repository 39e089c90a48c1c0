/**
 * A JSON writer for the command's records that is faster than JSON.stringify on
 * them (V8's serializer spends most of its time escaping the same ~115 keys of
 * every TCP record): it writes bytes into one reused buffer, and keeps the escaped
 * form of the keys per place in the record (Shape). About a quarter less time than
 * JSON.stringify for the records of `-tin --json` on 100,000 sockets. Once the
 * objects at one place have kept the same keys for a few records, their fields are
 * written by a writer compiled for that layout (cli/json-compile.ts), which checks
 * each object and leaves any that differs to the generic walk here.
 *
 * It writes what `JSON.stringify` writes for the same value, with two additions
 * JSON has no form for: a bigint becomes its decimal string and a Uint8Array its
 * bytes as lowercase hex (the forms cli/json.ts installs as `toJSON`). Plain
 * objects, arrays, strings, numbers, booleans, null, bigints and Uint8Arrays are
 * walked here; any other object (a class instance, a Date, a Buffer, an object
 * with its own `toJSON`) is handed to `JSON.stringify`.
 */

import { NUMBER_ROOM, writeNumber, writePlainString } from './json-bytes.js';
import { compileFields, type ByteSink, type FieldsWriter } from './json-compile.js';

/**
 * Hex of a Uint8Array: cli/json.ts installs it as Uint8Array.prototype.toJSON, and
 * JsonText recognises a Uint8Array by finding this very function as its toJSON.
 */
export function bytesToHex(this: Uint8Array): string {
  return Buffer.from(this.buffer, this.byteOffset, this.byteLength).toString('hex');
}

const HEX = Buffer.from('0123456789abcdef');
const QUOTE = 0x22;
const COMMA = 0x2c;

/**
 * The keys of the objects written at one place of a record (say `info` of a TCP
 * socket), in order, with their escaped forms, and the shapes of the values under
 * each key. Records of one kind share the same keys, so a key is usually found here
 * by one comparison of interned strings; when it differs, the shape learns the new one.
 * Once the keys stay the same, the shape also holds writers compiled for them.
 */
export class Shape {
  /** The keys in order; null where the key is not ASCII (looked up each time: see JsonText.ascii). */
  readonly keys: (string | null)[] = [];
  /** `"key":` as UTF-8, for each key. */
  readonly encoded: Uint8Array[] = [];
  private readonly inners: Shape[] = [];
  /**
   * Writers compiled for the layouts met here, tried in order (a few: a place that
   * keeps changing layout is written by the generic walk).
   */
  readonly writers: FieldsWriter[] = [];
  /** How many keys the last object walked generically had, and how many objects in a row had the same keys. */
  private count = -1;
  private same = 0;
  /** Objects the writers did not match, less those they did: compiling stops when it keeps growing. */
  private misses = 0;
  /** Set once the writers mostly missed: no more compiling here. */
  private closed = false;
  /** The layouts compiled here (see compileFields). */
  private readonly layouts = new Set<string>();

  /**
   * After the generic walk wrote the `count` fields of `o` (`changed`: some key was
   * not the one before at its place): compiles a writer for o's layout once a few
   * objects in a row had the same keys. Returns nothing; the next object of that
   * layout is written by the new writer.
   */
  walked(o: object, count: number, changed: boolean): void {
    if (this.closed) return;
    if (changed || count !== this.count) {
      this.count = count;
      this.same = 0;
      return;
    }
    // The keys are those of the objects before; the kinds of the values may still
    // differ from the writers' (a field that is null in some records): then one more.
    if (++this.same < COMPILE_AFTER || this.writers.length >= MAX_WRITERS) return;
    this.same = 0;
    const writer = compileFields(o, this, this.layouts);
    if (writer) this.writers.push(writer);
  }

  /** Counts an object a writer matched (`hit`) or none did; drops the writers of a place where they mostly miss. */
  matched(hit: boolean): void {
    if (hit) {
      if (this.misses > 0) this.misses--;
    } else if (++this.misses > GIVE_UP_MISSES) {
      // Walked generically from now on: trying writers that miss costs more than it saves.
      this.writers.length = 0;
      this.closed = true;
    }
  }

  /** Key number `i` is now `key`: what was known under the old key is dropped. */
  learn(i: number, key: string, encoded: Uint8Array): void {
    this.keys[i] = encoded.every((b) => b < 0x80) ? key : null;
    this.encoded[i] = encoded;
    this.inners[i] = new Shape();
  }

  /** The shape of the values under key number `i` (of elements, for an array). */
  inner(i: number): Shape {
    return (this.inners[i] ??= new Shape());
  }
}

/** Objects with the keys of the one before, this many in a row: compile a writer. */
const COMPILE_AFTER = 3;
/** At most this many writers per place. */
const MAX_WRITERS = 4;
/** Misses (net of hits) after which a place stops using writers. */
const GIVE_UP_MISSES = 256;

/** Writes JSON text into a growing byte buffer; `take()` returns it as a string. */
export class JsonText implements ByteSink {
  /** The buffer (public for the compiled writers, as `pos` and `reserve`). */
  buf = Buffer.allocUnsafe(1 << 16);
  /** A DataView of buf, for the compiled writers' 4-byte stores. */
  view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  /** Where the next byte goes. */
  pos = 0;
  /** False once a byte above 0x7f was written since the last take(). */
  private ascii = true;
  /** Each object key seen so far as `"key":` in UTF-8. */
  private readonly keys = new Map<string, Uint8Array>();

  /** The text written since the last take(); the writer starts over, empty. */
  take(): string {
    const text = this.buf.toString(this.ascii ? 'latin1' : 'utf8', 0, this.pos);
    this.pos = 0;
    this.ascii = true;
    return text;
  }

  /** Bytes written since the last take. */
  get size(): number {
    return this.pos;
  }

  /**
   * The UTF-8 bytes written since the last take, without making a string of them;
   * the writer starts over, empty. The bytes are valid until the next write.
   */
  takeBytes(): Uint8Array {
    const bytes = this.buf.subarray(0, this.pos);
    this.pos = 0;
    this.ascii = true;
    return bytes;
  }

  /** Appends text that is already JSON (or JSON punctuation), as is. */
  raw(text: string): void {
    this.reserve(text.length);
    let p = this.pos;
    const buf = this.buf;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c > 0x7f) {
        this.utf8(text);
        return;
      }
      buf[p++] = c;
    }
    this.pos = p;
  }

  /** Tells `shape` that its key number `i` is `key` this time. */
  private learn(shape: Shape, i: number, key: string): void {
    const bytes = this.keyBytes(key);
    shape.learn(i, key, bytes);
    if (shape.keys[i] === null) this.ascii = false;
  }

  /** `"key":` in UTF-8, made once per key. */
  private keyBytes(name: string): Uint8Array {
    let bytes = this.keys.get(name);
    if (bytes === undefined) {
      bytes = new TextEncoder().encode(`${JSON.stringify(name)}:`);
      this.keys.set(name, bytes);
    }
    return bytes;
  }

  /**
   * Appends a value as JSON; undefined, functions and symbols become `null`, as in
   * arrays. `shape` is where the keys of the objects found at this place are remembered.
   */
  value(v: unknown, shape?: Shape): void {
    switch (typeof v) {
      case 'number':
        this.number(v);
        return;
      case 'string':
        this.string(v);
        return;
      case 'bigint':
        this.reserve(1);
        this.buf[this.pos++] = QUOTE;
        this.raw(v.toString());
        this.reserve(1);
        this.buf[this.pos++] = QUOTE;
        return;
      case 'boolean':
        this.raw(v ? 'true' : 'false');
        return;
      case 'object':
        if (v === null) this.raw('null');
        else if (Array.isArray(v)) this.array(v, shape ?? new Shape());
        else this.object(v, shape ?? new Shape());
        return;
      default:
        this.raw('null');
    }
  }

  /**
   * Appends a plain object's fields (`"key":value`, comma-separated, undefined ones
   * skipped), without braces; `first` false when a field was written before them.
   * `shape` remembers the keys of the objects written at this place, to reuse their
   * escaped form while the next object has the same keys in the same order. `o` is
   * taken as a plain object (its keys as for…in lists them); `value` checks that.
   */
  fields(o: object, first: boolean, shape: Shape): void {
    const writers = shape.writers;
    if (writers.length > 0) {
      const start = this.pos;
      for (let w = 0; w < writers.length; w++) {
        if (writers[w]!(this, o, first)) {
          shape.matched(true);
          return;
        }
        // Not that layout: what it wrote is dropped.
        this.pos = start;
      }
      shape.matched(false);
    }
    let i = 0;
    let changed = false;
    for (const k in o) {
      const v = (o as Record<string, unknown>)[k];
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
      if (shape.keys[i] !== k) {
        this.learn(shape, i, k);
        changed = true;
      }
      const key = shape.encoded[i]!;
      this.reserve(key.length + 1);
      const buf = this.buf;
      let p = this.pos;
      if (!first) buf[p++] = COMMA;
      first = false;
      buf.set(key, p);
      this.pos = p + key.length;
      this.value(v, shape.inner(i));
      i++;
    }
    shape.walked(o, i, changed);
  }

  private object(o: object, shape: Shape): void {
    const proto = Object.getPrototypeOf(o) as unknown;
    const toJSON = (o as { toJSON?: unknown }).toJSON;
    if (toJSON === bytesToHex) {
      const bytes = o as Uint8Array;
      this.reserve(bytes.length * 2 + 2);
      const buf = this.buf;
      let p = this.pos;
      buf[p++] = QUOTE;
      for (let i = 0; i < bytes.length; i++) {
        buf[p++] = HEX[bytes[i]! >> 4]!;
        buf[p++] = HEX[bytes[i]! & 15]!;
      }
      buf[p++] = QUOTE;
      this.pos = p;
    } else if ((proto === Object.prototype || proto === null) && toJSON === undefined) {
      this.reserve(1);
      this.buf[this.pos++] = 0x7b;
      this.fields(o, true, shape);
      this.reserve(1);
      this.buf[this.pos++] = 0x7d;
    } else {
      this.raw(JSON.stringify(o) ?? 'null');
    }
  }

  /** An array; its elements share one shape. */
  private array(a: readonly unknown[], shape: Shape): void {
    const element = shape.inner(0);
    this.reserve(1);
    this.buf[this.pos++] = 0x5b;
    for (let i = 0; i < a.length; i++) {
      if (i > 0) {
        this.reserve(1);
        this.buf[this.pos++] = COMMA;
      }
      this.value(a[i], element);
    }
    this.reserve(1);
    this.buf[this.pos++] = 0x5d;
  }

  private number(n: number): void {
    this.reserve(NUMBER_ROOM);
    this.pos = writeNumber(this.buf, this.pos, n);
  }

  private string(s: string): void {
    this.reserve(s.length + 2);
    this.buf[this.pos] = QUOTE;
    const p = writePlainString(this.buf, this.pos + 1, s);
    // Anything but printable ASCII other than `"` and `\` is escaped by JSON.stringify.
    if (p < 0) {
      this.utf8(JSON.stringify(s));
      return;
    }
    this.buf[p] = QUOTE;
    this.pos = p + 1;
  }

  /** Appends any text as UTF-8 (JSON.stringify's escaping leaves no lone surrogates). */
  private utf8(text: string): void {
    this.reserve(text.length * 3);
    const written = this.buf.write(text, this.pos, 'utf8');
    if (written !== text.length) this.ascii = false;
    this.pos += written;
  }

  /** Makes room for `n` more bytes. */
  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
    this.view = new DataView(bigger.buffer, bigger.byteOffset, bigger.byteLength);
  }
}
