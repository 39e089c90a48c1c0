/**
 * `-p`: which processes hold each socket, found by reading the `socket:[INODE]`
 * links under `/proc/PID/fd`, as ss does.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { displayBytes } from '../query/display.js';

/** A process holding a socket through one of its file descriptors. */
export interface SocketUser {
  name: string;
  pid: number;
  fd: number;
}

/** Maps socket inodes to the processes that hold them (read once, at call time). */
export function socketUsers(proc = '/proc'): Map<number, SocketUser[]> {
  const users = new Map<number, SocketUser[]>();
  for (const entry of safeList(proc)) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    let name: string | undefined;
    for (const fdName of safeList(`${proc}/${entry}/fd`)) {
      let link: string;
      try {
        link = readlinkSync(`${proc}/${entry}/fd/${fdName}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (!m) continue;
      name ??= processName(pid, proc) ?? '?';
      const inode = Number(m[1]);
      const list = users.get(inode) ?? [];
      list.push({ name, pid, fd: Number(fdName) });
      users.set(inode, list);
    }
  }
  return users;
}

/** ss's `users:(("name",pid=1,fd=3),...)`. */
export function usersText(list: readonly SocketUser[] | undefined): string {
  if (!list || list.length === 0) return '';
  return `users:(${list.map((u) => `(${JSON.stringify(u.name)},pid=${u.pid},fd=${u.fd})`).join(',')})`;
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * The command name of process `pid` from /proc/PID/stat (between the first '(' and
 * the last ')'), made safe to print; undefined when there is no such process.
 */
export function processName(pid: number, proc = '/proc'): string | undefined {
  try {
    const stat = readFileSync(`${proc}/${pid}/stat`);
    return displayBytes(stat.subarray(stat.indexOf(0x28) + 1, stat.lastIndexOf(0x29)));
  } catch {
    return undefined;
  }
}
