/**
 * Text of names the kernel or other processes chose (socket names, process names,
 * interface names) made safe to print: UTF-8 where it is valid, and every control
 * character (C0, DEL, C1) and byte that is not UTF-8 as `\xNN`, so that no name can
 * move a terminal's cursor or end a line.
 */

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * A value as an error message shows it: strings quoted, bigints with `n`, objects as
 * JSON cut at 60 characters.
 */
export function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v !== 'object' || v === null || v instanceof Uint8Array) return String(v);
  let text: string;
  try {
    text = JSON.stringify(v, (_, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x)) ?? String(v);
  } catch {
    text = String(v);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Escapes the control characters of a string. */
export function escapeControls(text: string): string {
  return text.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Bytes as display text; `nul` replaces NUL bytes (UNIX abstract names show them as `@`). */
export function displayBytes(bytes: Uint8Array, nul = '\\x00'): string {
  let out = '';
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i]!;
    const len = b < 0x80 ? 1 : b >= 0xc2 && b < 0xe0 ? 2 : b >= 0xe0 && b < 0xf0 ? 3 : b >= 0xf0 && b < 0xf5 ? 4 : 0;
    if (b === 0) {
      out += nul;
      i++;
      continue;
    }
    const ch = len > 1 && i + len <= bytes.length ? utf8Char(bytes.subarray(i, i + len)) : len === 1 ? String.fromCharCode(b) : undefined;
    if (ch === undefined) {
      out += `\\x${b.toString(16).padStart(2, '0')}`;
      i++;
      continue;
    }
    out += escapeControls(ch);
    i += len;
  }
  return out;
}

/** One UTF-8 encoded character, or undefined when the bytes are not valid UTF-8. */
function utf8Char(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}
