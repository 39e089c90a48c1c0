/**
 * Buffered writes to standard output that never grow without bound: text is
 * collected into chunks and written synchronously, so a 100,000-socket listing
 * streams in constant memory. A closed pipe (`sockdiag | head -1`) ends the command
 * quietly.
 */
import { writeSync } from 'node:fs';

const CHUNK = 64 * 1024;

/** Thrown when the reader of standard output went away. */
export class ClosedOutput extends Error {
  override name = 'ClosedOutput';
}

export class Output {
  private buffer = '';

  constructor(private readonly fd = 1) {}

  write(text: string): void {
    this.buffer += text;
    if (this.buffer.length >= CHUNK) this.flush();
  }

  flush(): void {
    let bytes = Buffer.from(this.buffer);
    this.buffer = '';
    while (bytes.length > 0) {
      try {
        bytes = bytes.subarray(writeSync(this.fd, bytes));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') continue;
        if (code === 'EPIPE') throw new ClosedOutput('standard output was closed');
        throw e;
      }
    }
  }
}
