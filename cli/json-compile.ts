/**
 * Writers compiled per record layout, for JsonText (cli/json-text.ts).
 *
 * The records of one dump nearly all have the same keys in the same order, with
 * values of the same kinds (a TCP record: ~115 fields, most of them numbers). The
 * generic walk pays, for every field, a key lookup in its Shape, a copy of the
 * escaped key, and a dispatch on the value's type. Once a Shape has seen the same
 * keys a few times, {@link compileFields} generates (with `new Function`) a writer
 * for that exact layout: the keys and the punctuation between values become
 * constant bytes, each value is written by the code for its kind, with no lookup.
 *
 * Nothing here knows about sockets: the layout is read off the object the
 * writer is compiled from. And nothing is assumed about the objects it is later
 * given: the writer first checks that the object has exactly those keys in
 * exactly that order (as for…in lists them, which is the order JSON.stringify
 * and the generic walk write them in) and values of exactly those kinds, and
 * returns false if not, so that JsonText writes the object by the generic walk
 * instead. It also gives up (returns false) on a string that would need escaping,
 * so that such strings always go through JsonText's escaping path. The output is
 * therefore always what the generic walk writes.
 *
 * Measured on `-tin --json` over 100,000 TCP sockets (175 MB): writing the records
 * took ≈ 460 ms by the generic walk and ≈ 230 ms with compiled writers (in process,
 * warm); the whole command went from ≈ 765 to ≈ 600 ms. Writers that build a string
 * per object (constant pieces and values joined by `+`, then copied into the buffer)
 * took ≈ 610 ms, slower than the generic walk: hence bytes.
 */
import { NUMBER_ROOM, writeNumber, writePlainString } from './json-bytes.js';
import type { Shape } from './json-text.js';

/** What a compiled writer uses of JsonText: its buffer, and its generic path for nested values. */
export interface ByteSink {
  /** The buffer being written; replaced by a bigger one in `reserve`. */
  buf: Buffer;
  /** A DataView of `buf`. */
  view: DataView;
  /** Where the next byte goes. */
  pos: number;
  /** Makes room for `n` more bytes (may replace `buf`). */
  reserve(n: number): void;
  /** Writes any value the generic way; objects found under `shape` use its writers. */
  value(v: unknown, shape?: Shape): void;
}

/**
 * A compiled writer: writes the fields of `o` (`"key":value`, comma-separated, no
 * braces, a comma first unless `first`) and returns true, or returns false when `o`
 * does not have the layout it was compiled for. After false, bytes may have been
 * written past the position it started at: the caller puts the position back.
 */
export type FieldsWriter = (sink: ByteSink, o: object, first: boolean) => boolean;

/** How the value under a key is written, and what the writer checks it is. */
type Kind = 'number' | 'string' | 'bigint' | 'boolean' | 'null' | 'object' | 'skip';

/**
 * A writer for objects laid out as `sample` is: its keys (as for…in lists them) in
 * that order, each value of the same kind. Undefined, function and symbol values are
 * skipped, as JSON.stringify skips them; nested objects and arrays are written
 * through `sink.value` with the shapes of `shape` (the shape `sample` was walked
 * with), so they use their own compiled writers. Undefined when the layout is one
 * of `known` (the layouts compiled before at this place: `sample` went the generic
 * way for another reason, such as a string to escape), or not safe to compile (a
 * key whose JSON form is not printable ASCII). Adds the layout to `known`.
 */
export function compileFields(sample: object, shape: Shape, known: Set<string>): FieldsWriter | undefined {
  const keys: string[] = [];
  const kinds: Kind[] = [];
  for (const k in sample) {
    keys.push(k);
    kinds.push(kindOf((sample as Record<string, unknown>)[k]));
  }
  const layout = JSON.stringify([keys, kinds]);
  if (known.has(layout)) return undefined;
  known.add(layout);
  // The constant bytes are written as they are: keep the writer's output ASCII-only,
  // as JsonText's `ascii` flag expects of everything but its escaping path.
  const keyText = keys.map((k) => JSON.stringify(k));
  if (keyText.some((t) => /[^\x20-\x7e]/.test(t))) return undefined;
  return generate(keys, kinds, keyText, shape);
}

/** The kind of a value, as the writer will check it: typeof, with null apart and undefined, functions and symbols as one. */
function kindOf(v: unknown): Kind {
  switch (typeof v) {
    case 'number':
    case 'string':
    case 'bigint':
    case 'boolean':
      return typeof v as Kind;
    case 'object':
      return v === null ? 'null' : 'object';
    default:
      return 'skip';
  }
}

/** The check that the value in local `v` is of `kind`, as a JS expression that is true when it is NOT. */
function mismatch(v: string, kind: Kind): string {
  switch (kind) {
    case 'null':
      return `${v} !== null`;
    case 'object':
      return `typeof ${v} !== "object" || ${v} === null`;
    case 'skip':
      // What the generic walk skips: undefined, functions and symbols (one typeof each).
      return `${v} !== undefined && typeof ${v} !== "function" && typeof ${v} !== "symbol"`;
    default:
      return `typeof ${v} !== ${JSON.stringify(kind)}`;
  }
}

/**
 * Generates the writer's source. Its parts, in order:
 * 1. the layout check: for…in must list exactly `keys` (compared one by one against
 *    the constant array K: interned strings, so mostly pointer comparisons);
 * 2. each value read once, by name, into a local, and its kind checked;
 * 3. the writing, in segments that each reserve their room first: the constant text
 *    (keys, quotes, commas, `null`) as stores of constants, 8 bytes at a time
 *    (as doubles), then each value in place. (A copy loop over a constant array
 *    was no faster than the generic walk: not inlined at a hundred call sites.
 *    Byte-by-byte stores were ~10% slower, mostly while the large writers waited
 *    for TurboFan, which takes 50-70 ms to compile a tcp_info writer; stores of 8
 *    bytes instead of 4 halve the calls the interpreter makes meanwhile: -tin --json
 *    at 100k sockets 540 -> 515 ms. Each piece is padded to whole doubles, the
 *    padding overwritten by what follows: the tcp_info writer went from 255 stores
 *    to 156, and TurboFan compiles it in 44 ms instead of 50.) A nested object ends
 *    a segment: it is written through `sink.value`, which reserves its own room and
 *    may replace the buffer.
 */
function generate(keys: string[], kinds: Kind[], keyText: string[], shape: Shape): FieldsWriter {
  const lines: string[] = [];
  lines.push('let n = 0;');
  lines.push('for (const k in o) { if (k !== K[n]) return false; n++; }');
  lines.push(`if (n !== ${keys.length}) return false;`);
  keys.forEach((k, i) => {
    lines.push(`const v${i} = o[${JSON.stringify(k)}];`);
    lines.push(`if (${mismatch(`v${i}`, kinds[i]!)}) return false;`);
    if (kinds[i] === 'bigint') lines.push(`const b${i} = v${i}.toString();`);
  });

  // The constant text, and the code that writes values between its pieces.
  let pending = ''; // constant text not yet copied
  let room = 0; // constant room of the current segment
  let variable: string[] = []; // lengths of the current segment's strings and bigints
  let segment: string[] = [];
  let written = 0; // fields written so far (the index of the next one's inner shape)
  const flushConstant = () => {
    if (pending.length === 0) return;
    // Stored whole doubles at a time: up to 7 bytes of padding land past the text,
    // inside the room reserved for it, where the next value or text overwrites them
    // (or, at the end, beyond `pos`, which is where the output stops).
    const padded = pending.padEnd(Math.ceil(pending.length / 8) * 8, ' ');
    room += padded.length;
    segment.push(`${storeConstant(padded)} p += ${pending.length};`);
    pending = '';
  };
  const endSegment = () => {
    flushConstant();
    if (segment.length === 0) return;
    lines.push(`sink.reserve(${[String(room), ...variable].join(' + ')});`);
    lines.push('buf = sink.buf; dv = sink.view; p = sink.pos;');
    lines.push(...segment);
    lines.push('sink.pos = p;');
    segment = [];
    variable = [];
    room = 0;
  };

  lines.push('let buf, dv, p;');
  keys.forEach((_, i) => {
    const kind = kinds[i]!;
    if (kind === 'skip') return;
    // Only the first field's comma depends on the caller; the others are constant text.
    if (written === 0) {
      room += 1;
      segment.push('if (!first) buf[p++] = 44;');
    } else {
      pending += ',';
    }
    pending += `${keyText[i]}:`;
    const v = `v${i}`;
    switch (kind) {
      case 'null':
        pending += 'null';
        break;
      case 'number':
        flushConstant();
        room += NUMBER_ROOM;
        // Most numbers of a record are single digits (zeros, mostly): those inline.
        segment.push(`if (${v} >>> 0 === ${v} && ${v} < 10) buf[p++] = 48 + ${v}; else p = num(buf, p, ${v});`);
        break;
      case 'boolean':
        flushConstant();
        room += 5;
        segment.push(`p = bool(buf, p, ${v});`);
        break;
      case 'string':
        pending += '"';
        flushConstant();
        variable.push(`${v}.length`);
        // A string that needs escaping: the whole object goes the generic way.
        segment.push(`if ((p = str(buf, p, ${v})) < 0) return false;`);
        pending += '"';
        break;
      case 'bigint':
        pending += '"';
        flushConstant();
        variable.push(`b${i}.length`);
        segment.push(`if ((p = str(buf, p, b${i})) < 0) return false;`);
        pending += '"';
        break;
      case 'object':
        endSegment();
        lines.push(`sink.value(${v}, S.inner(${written}));`);
        break;
    }
    written++;
  });
  endSegment();
  lines.push('return true;');

  const body = `"use strict";\nreturn function writeFields(sink, o, first) {\n${lines.join('\n')}\n};`;
  // The key names are in the source only as JSON string literals (valid JS literals).
  return new Function('K', 'S', 'num', 'str', 'bool', body)(keys, shape, writeNumber, writePlainString, bool) as FieldsWriter;
}

/** Stores of the bytes of `text` (a multiple of 8 long) at p, 8 at a time. */
function storeConstant(text: string): string {
  const out: string[] = [];
  for (let j = 0; j < text.length; j += 8) out.push(`dv.setFloat64(p + ${j}, ${asciiDouble(text, j)}, true);`);
  return out.join(' ');
}

/**
 * The double whose little-endian bytes are the 8 characters of `text` at `j`, as a
 * literal. Printable ASCII (0x20-0x7e, all constant text is) makes a finite, normal,
 * positive double (its top byte is never 0x7f or 0xff, so never NaN or infinity), and
 * String() of a double reads back as exactly that double: the store writes exactly
 * these bytes.
 */
function asciiDouble(text: string, j: number): string {
  const bytes = new Uint8Array(8);
  for (let k = 0; k < 8; k++) bytes[k] = text.charCodeAt(j + k);
  return String(new DataView(bytes.buffer).getFloat64(0, true));
}

/** Writes `true` or `false`; returns the position after. */
function bool(buf: Buffer, p: number, v: boolean): number {
  if (v) {
    buf[p] = 0x74;
    buf[p + 1] = 0x72;
    buf[p + 2] = 0x75;
    buf[p + 3] = 0x65;
    return p + 4;
  }
  buf[p] = 0x66;
  buf[p + 1] = 0x61;
  buf[p + 2] = 0x6c;
  buf[p + 3] = 0x73;
  buf[p + 4] = 0x65;
  return p + 5;
}

