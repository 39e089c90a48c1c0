/**
 * `-D FILE`: the kernel's TCP replies written as they came, instead of a listing, as
 * `ss -D` writes them: each socket's netlink message (struct nlmsghdr, struct
 * inet_diag_msg, its attributes), padded to 4 bytes, one after another, and each reply's
 * NLMSG_DONE. The states and the kernel's part of the filter apply; what only user space
 * can test does not (ss 6.1 applies the states only).
 */
import { closeSync, openSync } from 'node:fs';
import { NLMSGHDR_SIZE, NlmFlags, NlmGetFlags, NlmsgType, writeNlmsghdr } from '../generated/netlink.js';
import { planFilter, type FilterNode } from '../query/filter/index.js';
import { inetRequests, stateMask } from '../query/inet.js';
import type { SockDiag } from '../query/session.js';
import { nlmsgAlign } from '../runtime/netlink-socket.js';
import type { Dump } from './plan.js';
import { Output } from './output.js';

/** Bytes written at a time. */
const CHUNK = 64 * 1024;

/** NLMSG_DONE with error 0, as the kernel ends a dump. */
function doneMessage(seq: number, pid: number): Uint8Array {
  const bytes = new Uint8Array(NLMSGHDR_SIZE + 4);
  writeNlmsghdr({ len: bytes.length, type: NlmsgType.done, flags: NlmFlags.multi, seq, pid }, new DataView(bytes.buffer), 0);
  return bytes;
}

/**
 * Writes the TCP dumps of `dumps` to `path` (`-`: to `out`).
 * @throws Error from open(2) when the file cannot be created.
 */
export function writeRawDump(diag: SockDiag, dumps: readonly Dump[], filter: FilterNode | null, path: string, out: Output): void {
  const plan = filter ? planFilter(filter) : undefined;
  const file = path === '-' ? undefined : openSync(path, 'w');
  const sink = file === undefined ? out : new Output(file, `'${path}'`);
  // Messages are copied out of the receive buffer (reused by the next receive) into chunks.
  const chunk = new Uint8Array(CHUNK);
  let used = 0;
  const add = (bytes: Uint8Array) => {
    if (used + bytes.length > chunk.length) {
      sink.writeBytes(chunk.subarray(0, used));
      used = 0;
    }
    if (bytes.length > chunk.length) sink.writeBytes(bytes);
    else chunk.set(bytes, (used += bytes.length) - bytes.length);
  };
  try {
    if (plan?.empty) return;
    for (const d of dumps.filter((x) => x.table === 'tcp')) {
      for (const family of d.families) {
        for (const { type, payload } of inetRequests({ family, protocol: 'tcp', ext: d.ext, bytecode: plan?.bytecode }, stateMask(d.states))) {
          let last = { seq: 0, pid: 0 };
          for (const m of diag.raw(type, NlmGetFlags.dump, payload)) {
            // The header before the payload, and NLMSG_ALIGN's padding after it, as ss writes them.
            add(new Uint8Array(m.view.buffer, m.view.byteOffset + m.offset - NLMSGHDR_SIZE, nlmsgAlign(NLMSGHDR_SIZE + m.length)));
            last = m;
          }
          // The reply's end, which ss writes too and reads back (TCPDIAG_FILE=FILE ss) up to.
          add(doneMessage(last.seq, last.pid));
        }
      }
    }
    sink.writeBytes(chunk.subarray(0, used));
  } finally {
    if (file !== undefined) closeSync(file);
  }
}
