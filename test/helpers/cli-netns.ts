/**
 * Fixtures of the CLI tests: a private network namespace with known sockets in it
 * (opened by test/helpers/cli-sockets.py, run inside the namespace with
 * `ip netns exec`), the built command (`node dist/bin/sockdiag.cjs`, its launcher) and `ss`, both run
 * on that namespace, and a parser for the tables both print.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { binPath } from './bin-path.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The command as `npm install` puts it on PATH. */
export const BIN = binPath(ROOT);
const SOCKETS_SCRIPT = join(ROOT, 'test/helpers/cli-sockets.py');

/** What a command printed and how it ended. */
export interface Ran {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout as bytes, to look for bytes that text decoding would hide. */
  raw: Buffer;
}

function ran(r: ReturnType<typeof spawnSync>, decode: BufferEncoding): Ran {
  const raw = r.stdout as Buffer;
  return { status: r.status, signal: r.signal, stdout: raw.toString(decode), stderr: (r.stderr as Buffer).toString('utf8'), raw };
}

/** Runs the built command with `args`, as a user would. */
export function sockdiag(args: readonly string[]): Ran {
  return ran(spawnSync(process.execPath, [BIN, ...args], { maxBuffer: 256 * 1024 * 1024, timeout: 30_000 }), 'utf8');
}

/** Runs `ss` inside namespace `ns`; its output decoded byte for byte (latin1), since ss prints names raw. */
export function ss(ns: string, args: readonly string[]): Ran {
  return ran(spawnSync('ip', ['netns', 'exec', ns, 'ss', ...args], { maxBuffer: 256 * 1024 * 1024, timeout: 30_000 }), 'latin1');
}

// ---------------------------------------------------------------------------------
// The namespace and its sockets

interface Endpoint {
  inode: number;
  fd: number;
  local: [string, number];
}
interface UnixEndpoint {
  inode: number;
  fd: number;
  /** The path, the abstract name's bytes as hex (`escaped`), or null when unbound. */
  name: string | null;
}

/** What cli-sockets.py opened (see that file). */
export interface Sockets {
  pid: number;
  tcp: Record<'listener' | 'client' | 'server' | 'closeWait' | 'pending', Endpoint> & Partial<Record<'listener6' | 'client6' | 'server6' | 'dual', Endpoint>> & {
    finWait2: { local: [string, number] };
  };
  tcpTimeWait: { local: [string, number] };
  udp: Record<'bound' | 'connected', Endpoint> & { bound6?: Endpoint };
  unix: Record<'listener' | 'client' | 'server' | 'dgram' | 'pairA' | 'pairB' | 'escaped', UnixEndpoint>;
  mptcp?: Record<'listener' | 'client' | 'server', Endpoint>;
  mptcpError?: string;
  /** PACKET sockets: the protocol number they receive, the interface bound ('*' for none), the inode. */
  packet: { proto: number; dev: string; inode: number }[];
  /** A second thread of the process, named by prctl(PR_SET_NAME). */
  thread: { tid: number; name: string };
  /** A NETLINK_ROUTE socket: its port id (the child's pid, which the kernel chose). */
  netlink: { portid: number; pid: number };
  ipv6Error?: string;
  many: number;
}

/** A private network namespace, with the test's sockets open inside it. */
export interface Namespace {
  name: string;
  sockets: Sockets;
  /** Closes the sockets and deletes the namespace. */
  close(): Promise<void>;
}

/** Creates `sockdiag-cli-<pid>-<rand>` with lo up, and opens the sockets in it (`many` extra TCP connections). */
export async function openNamespace(opts: { many?: number } = {}): Promise<Namespace> {
  const name = `sockdiag-cli-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const dir = mkdtempSync(join(tmpdir(), 'sockdiag-cli-'));
  execFileSync('ip', ['netns', 'add', name]);
  let child: ChildProcess | undefined;
  const close = async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.stdin?.end();
      child.kill('SIGTERM');
      await exited;
    }
    try {
      execFileSync('ip', ['netns', 'del', name]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  try {
    execFileSync('ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up']);
    const args = ['netns', 'exec', name, 'python3', SOCKETS_SCRIPT, dir, ...(opts.many ? ['--many', String(opts.many)] : [])];
    child = spawn('ip', args, { stdio: ['pipe', 'pipe', 'inherit'] });
    const sockets = await firstLine(child);
    return { name, sockets: JSON.parse(sockets) as Sockets, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** A namespace with only lo (up) in it; `close()` deletes it. */
export function bareNamespace(): { name: string; close(): void } {
  const name = `sockdiag-cli-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  execFileSync('ip', ['netns', 'add', name]);
  execFileSync('ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up']);
  return { name, close: () => execFileSync('ip', ['netns', 'del', name]) };
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      lines.close();
      resolve(line);
    });
    child.once('exit', (code, signal) => reject(new Error(`cli-sockets.py exited (${code ?? signal}) before reporting its sockets`)));
    child.once('error', reject);
  });
}

// ---------------------------------------------------------------------------------
// Parsing ss-style tables

/** One socket line of an ss-style table, split on whitespace, with its detail lines. */
export interface Row {
  netid?: string;
  state?: string;
  recvQ: string;
  sendQ: string;
  /** `addr:port` for INET sockets; `name inode` for UNIX sockets. */
  local: string;
  peer: string;
  /** The words after the peer (process, -e and -o details). */
  rest: string[];
  /** Lines under the row (those starting with a tab: -i, -m), trimmed. */
  details: string[];
}

/**
 * Parses a table as ss (and sockdiag) print it. The header says which leading
 * columns there are; UNIX rows (netid `u_*`, or `unix: true`) take two words per
 * address (name, then inode).
 */
export function parseTable(text: string, opts: { unix?: boolean } = {}): Row[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const header = lines.shift() ?? '';
  const hasNetid = header.startsWith('Netid');
  const hasState = /^(Netid\s+)?State\b/.test(header);
  const rows: Row[] = [];
  for (const line of lines) {
    if (line.startsWith('\t')) {
      rows.at(-1)?.details.push(line.trim());
      continue;
    }
    const w = line.trim().split(/\s+/);
    let i = 0;
    const netid = hasNetid ? w[i++] : undefined;
    const state = hasState ? w[i++] : undefined;
    const recvQ = w[i++]!;
    const sendQ = w[i++]!;
    const unix = opts.unix || netid?.startsWith('u_');
    const take = () => (unix ? `${w[i++]} ${w[i++]}` : w[i++]!);
    const local = take();
    const peer = take();
    rows.push({ netid, state, recvQ, sendQ, local, peer, rest: w.slice(i), details: [] });
  }
  return rows;
}

/** The row as a comparable tuple: state, local, peer, Recv-Q, Send-Q (and netid when shown). */
export const tuple = (r: Row): string => [r.netid, r.state, r.local, r.peer, r.recvQ, r.sendQ].filter((x) => x !== undefined).join(' | ');

/** `addr:port` as ss prints it (`[::1]:80` for IPv6). */
export function endpoint([addr, port]: [string, number]): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

/** The value of a `name:value` word in a list of words (`ino:123` → `123`). */
export function field(words: readonly string[], name: string): string | undefined {
  const w = words.find((x) => x.startsWith(`${name}:`));
  return w?.slice(name.length + 1);
}
