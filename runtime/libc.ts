/**
 * The few libc calls the runtime makes, bound with koffi. Each wrapper reads errno
 * right after a failed call and throws a {@link SyscallError}; none knows a protocol.
 */
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { MAP_FAILED, NR_IO_URING_ENTER, NR_IO_URING_REGISTER, NR_IO_URING_SETUP } from '../generated/io_uring.js';
import { SyscallError } from './errors.js';

// Required when this module is evaluated, not imported ahead of it: the reader thread
// (reader-worker.ts) must decide when koffi's native add-on loads (see there).
const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');

const libc = koffi.load('libc.so.6');
const pollfd = koffi.struct({ fd: 'int', events: 'short', revents: 'short' });

const c = {
  socket: libc.func('int socket(int domain, int type, int protocol)'),
  bind: libc.func('int bind(int fd, const void *addr, uint32_t addrlen)'),
  getsockname: libc.func('int getsockname(int fd, void *addr, uint32_t *addrlen)'),
  sendto: libc.func('intptr_t sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t addrlen)'),
  recvfrom: libc.func('intptr_t recvfrom(int fd, void *buf, size_t len, int flags, void *addr, uint32_t *addrlen)'),
  setsockopt: libc.func('int setsockopt(int fd, int level, int name, const void *value, uint32_t len)'),
  getsockopt: libc.func('int getsockopt(int fd, int level, int name, void *value, uint32_t *len)'),
  poll: libc.func('poll', 'int', [koffi.pointer(pollfd), 'unsigned long', 'int']),
  close: libc.func('int close(int fd)'),
  open: libc.func('int open(const char *path, int flags, ...)'),
  setns: libc.func('int setns(int fd, int nstype)'),
  if_nametoindex: libc.func('unsigned int if_nametoindex(const char *name)'),
  if_indextoname: libc.func('char *if_indextoname(unsigned int index, _Out_ char *name)'),
  // syscall(2) is variadic; these are the two shapes io_uring's calls take (all integer arguments, so bound as fixed).
  syscallSetup: libc.func('syscall', 'long', ['long', 'uint32', 'void *']),
  syscallEnter: libc.func('syscall', 'long', ['long', 'int', 'uint32', 'uint32', 'uint32', 'void *', 'size_t']),
  syscallRegister: libc.func('syscall', 'long', ['long', 'int', 'uint32', 'void *', 'uint32']),
  mmap: libc.func('void *mmap(void *addr, size_t len, int prot, int flags, int fd, int64_t offset)'),
  eventfd: libc.func('int eventfd(unsigned int count, int flags)'),
};

/** IF_NAMESIZE of net/if.h: the buffer if_indextoname() writes into. */
const IF_NAMESIZE = 16;

const { EAGAIN, EWOULDBLOCK, EINTR } = constants.errno;

/** Returns `result`, or throws a SyscallError with the current errno when it is negative. */
function check(syscall: string, result: number, context?: string): number {
  if (result < 0) throw new SyscallError(syscall, koffi.errno(), context);
  return result;
}

/** socket(2); returns the descriptor. */
export function socket(domain: number, type: number, protocol: number): number {
  return check('socket', c.socket(domain, type, protocol));
}

/** bind(2) to the address in `addr`. */
export function bind(fd: number, addr: Uint8Array): void {
  check('bind', c.bind(fd, addr, addr.length));
}

/** getsockname(2) into `addr`; returns the address length. */
export function getsockname(fd: number, addr: Uint8Array): number {
  const len = new Uint32Array([addr.length]);
  check('getsockname', c.getsockname(fd, addr, len));
  return len[0]!;
}

/** sendto(2) of all of `buf` to the address in `addr`; returns the bytes sent. */
export function sendto(fd: number, buf: Uint8Array, flags: number, addr: Uint8Array): number {
  return check('sendto', c.sendto(fd, buf, buf.length, flags, addr, addr.length));
}

/**
 * recvfrom(2) of up to `length` bytes into `buf`, the sender's address into `addr`
 * when given. Returns what recvfrom returns (with MSG_TRUNC: the datagram's real
 * size), or undefined when nothing is queued on a non-blocking call. Retries EINTR.
 */
export function recvfrom(fd: number, buf: Uint8Array, length: number, flags: number, addr: Uint8Array | null): number | undefined {
  for (;;) {
    const addrlen = addr ? new Uint32Array([addr.length]) : null;
    const n = c.recvfrom(fd, buf, length, flags, addr, addrlen) as number;
    if (n >= 0) return n;
    const errno = koffi.errno();
    if (errno === EAGAIN || errno === EWOULDBLOCK) return undefined;
    if (errno !== EINTR) throw new SyscallError('recvfrom', errno);
  }
}

/** setsockopt(2) of an int option. `context` starts the error message. */
export function setsockoptInt(fd: number, level: number, name: number, value: number, context?: string): void {
  check('setsockopt', c.setsockopt(fd, level, name, new Int32Array([value]), Int32Array.BYTES_PER_ELEMENT), context);
}

/** getsockopt(2) of an int option. */
export function getsockoptInt(fd: number, level: number, name: number): number {
  const value = new Int32Array(1);
  check('getsockopt', c.getsockopt(fd, level, name, value, new Uint32Array([value.byteLength])));
  return value[0]!;
}

/** poll(2) on one descriptor; returns the number of ready descriptors (0 on timeout or EINTR). */
export function poll(fd: number, events: number, timeoutMs: number): number {
  const n = c.poll({ fd, events, revents: 0 }, 1, timeoutMs) as number;
  if (n < 0 && koffi.errno() === EINTR) return 0;
  return check('poll', n);
}

/** close(2). */
export function close(fd: number): void {
  if (c.close(fd) >= 0) return;
  const errno = koffi.errno();
  // On Linux the descriptor is released even when close() reports EINTR.
  if (errno !== EINTR) throw new SyscallError('close', errno);
}

/** open(2) without O_CREAT; returns the descriptor. `context` starts the error message. */
export function open(path: string, flags: number, context?: string): number {
  return check('open', c.open(path, flags), context);
}

/** setns(2). `context` starts the error message. */
export function setns(fd: number, nstype: number, context?: string): void {
  check('setns', c.setns(fd, nstype), context);
}

/** if_nametoindex(3) in the calling thread's network namespace; undefined when there is no such interface. */
export function ifNameToIndex(name: string): number | undefined {
  const index = c.if_nametoindex(name) as number;
  return index === 0 ? undefined : index;
}

/** if_indextoname(3) in the calling thread's network namespace; undefined when there is no such interface. */
export function ifIndexToName(index: number): string | undefined {
  const buf = Buffer.alloc(IF_NAMESIZE);
  if (c.if_indextoname(index, buf) === null) return undefined;
  return buf.toString('latin1', 0, buf.indexOf(0) === -1 ? IF_NAMESIZE : buf.indexOf(0));
}

/** io_uring_setup(2): a ring of at least `entries` entries; `params` (struct io_uring_params) is filled in. Returns the ring's descriptor. */
export function ioUringSetup(entries: number, params: Uint8Array): number {
  return check('io_uring_setup', Number(c.syscallSetup(NR_IO_URING_SETUP, entries, params)));
}

/**
 * io_uring_enter(2): submits `toSubmit` entries and, with IORING_ENTER_GETEVENTS in
 * `flags`, waits for `minComplete` completions. Returns the entries submitted; 0 when
 * a wait was interrupted (EINTR), which callers treat as a spurious wake-up.
 */
export function ioUringEnter(fd: number, toSubmit: number, minComplete: number, flags: number): number {
  const n = Number(c.syscallEnter(NR_IO_URING_ENTER, fd, toSubmit, minComplete, flags, null, 0));
  if (n < 0 && koffi.errno() === EINTR) return 0;
  return check('io_uring_enter', n);
}

/** io_uring_register(2) of `op` with `args` (nr_args is their count). */
export function ioUringRegister(fd: number, op: number, args: Int32Array): void {
  check('io_uring_register', Number(c.syscallRegister(NR_IO_URING_REGISTER, fd, op, args, args.length)));
}

/** eventfd(2); returns the descriptor. */
export function eventfd(count: number, flags: number): number {
  return check('eventfd', c.eventfd(count, flags));
}

/** The size of a C pointer in this process, in bytes. */
export const POINTER_BYTES: number = koffi.sizeof('void *');

/** Memory mapped by {@link mmap}: its address, and the same bytes as an ArrayBuffer. It is never unmapped. */
export interface Mapping {
  address: bigint;
  memory: ArrayBuffer;
}

/** mmap(2) of `length` bytes at a place the kernel chooses. */
export function mmap(length: number, prot: number, flags: number, fd: number, offset: number): Mapping {
  const pointer = c.mmap(null, length, prot, flags, fd, offset);
  const address = koffi.address(pointer) as bigint;
  if (address === BigInt.asUintN(POINTER_BYTES * 8, BigInt(MAP_FAILED))) throw new SyscallError('mmap', koffi.errno());
  return { address, memory: koffi.view(pointer, length) };
}
