/**
 * Running code inside another network namespace. setns(2) moves only the calling
 * thread, so the code must be synchronous: a socket created inside stays in the
 * namespace it was created in after the thread moves back.
 */
import { CLONE_NEWNET, OpenFlags } from '../generated/socket.js';
import { SyscallError } from './errors.js';
import * as libc from './libc.js';

/**
 * A network namespace: one named by `ip netns add` (a file in /run/netns), any
 * namespace file (a bind mount, `/proc/PID/ns/net`), or the namespace of a process.
 */
export type NetnsSpec = { name: string } | { path: string } | { pid: number };

/** The namespace file of `spec` and words for it in messages. */
function locate(spec: NetnsSpec): { path: string; label: string } {
  if (typeof spec !== 'object' || spec === null || !('name' in spec || 'path' in spec || 'pid' in spec)) {
    throw new TypeError(`not a network namespace: ${typeof spec === 'string' ? JSON.stringify(spec) : String(spec)} (give { name }, { path } or { pid })`);
  }
  if ('name' in spec) {
    if (typeof spec.name !== 'string' || spec.name === '' || spec.name === '.' || spec.name === '..' || spec.name.includes('/')) {
      throw new TypeError(`not a network namespace name: ${JSON.stringify(spec.name)}`);
    }
    return { path: `/run/netns/${spec.name}`, label: `network namespace "${spec.name}"` };
  }
  if ('path' in spec) {
    if (typeof spec.path !== 'string' || spec.path === '') throw new TypeError(`not a network namespace file: ${JSON.stringify(spec.path)}`);
    return { path: spec.path, label: `network namespace ${spec.path}` };
  }
  if (!Number.isSafeInteger(spec.pid) || spec.pid <= 0) throw new TypeError(`not a process id: ${spec.pid}`);
  return { path: `/proc/${spec.pid}/ns/net`, label: `network namespace of process ${spec.pid}` };
}

/** Moves the calling thread into the namespace open at `fd`. */
function enter(fd: number, label: string): void {
  try {
    libc.setns(fd, CLONE_NEWNET, `entering ${label}`);
  } catch (e) {
    if (e instanceof SyscallError && e.code === 'EPERM') {
      throw new SyscallError('setns', e.errno, `entering ${label} needs CAP_SYS_ADMIN`);
    }
    throw e;
  }
}

/** How many times a thread tries to return to its own namespace before it counts as stranded. */
const HOME_TRIES = 3;
/** Set once this thread could not return to its own namespace (see {@link assertHome}). */
let stranded: SyscallError | undefined;

/**
 * Throws when this thread is stranded in another network namespace, because a return
 * from {@link withNetns} failed: whatever it asked the kernel from then on would be
 * about that namespace, not its own, so every later query refuses instead.
 */
export function assertHome(): void {
  if (stranded) throw stranded;
}

/** Moves the thread back into its own namespace (open at `home`), trying {@link HOME_TRIES} times. */
function returnHome(home: number, label: string): void {
  for (let tries = 1; ; tries++) {
    try {
      libc.setns(home, CLONE_NEWNET);
      return;
    } catch (e) {
      if (tries < HOME_TRIES) continue;
      const errno = e instanceof SyscallError ? e.errno : 0;
      stranded = new SyscallError('setns', errno, `returning from ${label} to this thread's own network namespace failed ${HOME_TRIES} times; the thread stays in ${label}, and every later query refuses`);
      throw stranded;
    }
  }
}

/**
 * Runs `fn` with the calling thread in the network namespace `spec`, and moves the
 * thread back afterwards, also when `fn` throws. `fn` must be synchronous (a
 * returned promise is refused with a TypeError, after moving back).
 *
 * @throws SyscallError `ENOENT` when the namespace does not exist, `EPERM` without
 *   CAP_SYS_ADMIN; the message names the namespace. A thread that cannot move back
 *   (after three tries) is stranded: see {@link assertHome}.
 */
export function withNetns<T>(spec: NetnsSpec, fn: () => T): T {
  assertHome();
  const { path, label } = locate(spec);
  // O_RDONLY is 0.
  const target = libc.open(path, OpenFlags.cloexec, label);
  try {
    const home = libc.open('/proc/thread-self/ns/net', OpenFlags.cloexec, 'the current network namespace');
    try {
      enter(target, label);
      let result: T;
      try {
        result = fn();
      } finally {
        returnHome(home, label);
      }
      if (typeof (result as { then?: unknown } | undefined)?.then === 'function') {
        throw new TypeError('withNetns needs a synchronous function: the namespace only applies until it returns');
      }
      return result;
    } finally {
      libc.close(home);
    }
  } finally {
    libc.close(target);
  }
}
