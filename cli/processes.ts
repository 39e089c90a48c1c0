/**
 * `-p`: which processes hold each socket, found by reading the `socket:[INODE]`
 * links under `/proc/PID/fd`, as ss does; `-T`: which threads, under
 * `/proc/PID/task/TID/fd`.
 */
import { opendirSync, readFileSync, readlinkSync, type Dir } from 'node:fs';
import { displayBytes } from '../query/display.js';

/** A process holding a socket through one of its file descriptors. */
export interface SocketUser {
  /** The command name; with threads, the thread's. */
  name: string;
  pid: number;
  /** With threads (-T): the thread id. */
  tid?: number;
  fd: number;
}

/**
 * Maps socket inodes to the processes that hold them (read once, at call time); with
 * `threads`, one entry for each thread of each process, as ss -T lists them.
 */
export function socketUsers(proc = '/proc', threads = false): Map<number, SocketUser[]> {
  const users = new Map<number, SocketUser[]>();
  for (const entry of safeList(proc)) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (!threads) {
      addUsers(users, `${proc}/${entry}`, (fd) => ({ pid, fd }));
      continue;
    }
    for (const task of safeList(`${proc}/${entry}/task`)) {
      if (/^\d+$/.test(task)) addUsers(users, `${proc}/${entry}/task/${task}`, (fd) => ({ pid, tid: Number(task), fd }));
    }
  }
  return users;
}

/** Adds the sockets behind `dir/fd` to `users`, named from `dir/stat`. */
function addUsers(users: Map<number, SocketUser[]>, dir: string, user: (fd: number) => Omit<SocketUser, 'name'>): void {
  let name: string | undefined;
  for (const fdName of safeList(`${dir}/fd`)) {
    let link: string;
    try {
      link = readlinkSync(`${dir}/fd/${fdName}`);
    } catch {
      continue;
    }
    const m = /^socket:\[(\d+)\]$/.exec(link);
    if (!m) continue;
    name ??= statName(dir) ?? '?';
    const inode = Number(m[1]);
    const list = users.get(inode) ?? [];
    // ss lists a socket's holders last found first (it prepends them to a hash chain).
    list.unshift({ name, ...user(Number(fdName)) });
    users.set(inode, list);
  }
}

/** ss's `users:(("name",pid=1,fd=3),...)`, with `tid=` for threads (-T). */
export function usersText(list: readonly SocketUser[] | undefined): string {
  if (!list || list.length === 0) return '';
  return `users:(${list.map((u) => `(${JSON.stringify(u.name)},pid=${u.pid}${u.tid === undefined ? '' : `,tid=${u.tid}`},fd=${u.fd})`).join(',')})`;
}

/**
 * The names in `dir` in the kernel's order, as ss reads them (readdirSync sorts them as
 * text, which puts fd 10 before fd 9 and pid 1000 before pid 999); what could be read
 * when the directory goes away meanwhile.
 */
function safeList(dir: string): string[] {
  const names: string[] = [];
  let d: Dir | undefined;
  try {
    d = opendirSync(dir);
    for (let e = d.readSync(); e !== null; e = d.readSync()) names.push(e.name);
  } catch {
    // A process that exits while it is read: what was read stands.
  } finally {
    d?.closeSync();
  }
  return names;
}

/**
 * The command name of process `pid` from /proc/PID/stat (between the first '(' and
 * the last ')'), made safe to print; undefined when there is no such process.
 */
export function processName(pid: number, proc = '/proc'): string | undefined {
  return statName(`${proc}/${pid}`);
}

/** The command name in `dir/stat` (a process's or a thread's), made safe to print. */
function statName(dir: string): string | undefined {
  try {
    const stat = readFileSync(`${dir}/stat`);
    return displayBytes(stat.subarray(stat.indexOf(0x28) + 1, stat.lastIndexOf(0x29)));
  } catch {
    return undefined;
  }
}
