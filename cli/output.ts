/**
 * Buffered writes to standard output that never grow without bound: text is
 * collected into chunks and written synchronously, so a 100,000-socket listing
 * streams in constant memory. A closed pipe (`sockdiag | head -1`) ends the command
 * quietly.
 */
import { writeSync } from 'node:fs';
import { describeErrno } from '../runtime/errors.js';

const CHUNK = 64 * 1024;
/** The reused encoding buffer: a chunk and a long last line, in UTF-8. */
const ENCODE_ROOM = 3 * 2 * CHUNK;

/** Thrown when the reader of standard output went away. */
export class ClosedOutput extends Error {
  override name = 'ClosedOutput';
}

/** Thrown when the output cannot be written for another reason (a full disk, an I/O error); the message names it. */
export class OutputFailed extends Error {
  override name = 'OutputFailed';
}

export class Output {
  private buffer = '';
  /** Where a chunk is encoded, reused: a fresh Buffer per chunk costs more than the encoding. */
  private bytes?: Buffer;

  constructor(
    private readonly fd = 1,
    /** What the descriptor is, for messages. */
    private readonly name = 'standard output',
  ) {}

  write(text: string): void {
    this.buffer += text;
    if (this.buffer.length >= CHUNK) this.flush();
  }

  /** Writes `bytes` (UTF-8) after the text written so far. */
  writeBytes(bytes: Uint8Array): void {
    this.flush();
    this.send(bytes);
  }

  flush(): void {
    const bytes = this.encode(this.buffer);
    this.buffer = '';
    this.send(bytes);
  }

  private send(bytes: Uint8Array): void {
    while (bytes.length > 0) {
      try {
        bytes = bytes.subarray(writeSync(this.fd, bytes));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') continue;
        if (code === 'EPIPE') throw new ClosedOutput('standard output was closed');
        const errno = (e as NodeJS.ErrnoException).errno;
        if (typeof errno === 'number') throw new OutputFailed(`cannot write to ${this.name}: ${describeErrno(-errno)}`);
        throw e;
      }
    }
  }

  /** `text` as UTF-8: in the reused buffer when it surely fits (3 bytes at most per UTF-16 unit), else in a new one. */
  private encode(text: string): Buffer {
    if (text.length > ENCODE_ROOM / 3) return Buffer.from(text);
    this.bytes ??= Buffer.allocUnsafe(ENCODE_ROOM);
    return this.bytes.subarray(0, this.bytes.write(text, 0));
  }
}
