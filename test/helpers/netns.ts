/**
 * Fixtures of the real-kernel query tests: a private network namespace per test file,
 * and socket-holder child processes that open sockets inside it.
 *
 * Sockets must be created by a process that lives in the namespace: Node's `net`
 * creates descriptors on a later tick, so `withNetns` around `net.connect` would
 * create them in the wrong namespace. The holders run under `ip netns exec`.
 */
import { execFileSync, spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const isRoot = process.getuid?.() === 0;

/** Why a real-kernel test file cannot run here, or undefined when it can. */
export function kernelTestsSkipReason(): string | undefined {
  if (!isRoot) return 'needs root (creates network namespaces with `ip netns add`)';
  if (!hasCommand('ip')) return 'needs `ip` from iproute2';
  return undefined;
}

/** Whether a command can be run (it is on PATH). */
export function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** A network namespace made by `ip netns add`, with its loopback up. */
export class Netns {
  private constructor(readonly name: string) {}

  /** Creates `sockdiag-q-<pid>-<random>` (with `label` in it, for `ip netns list`). */
  static create(label: string): Netns {
    const name = `sockdiag-q-${label}-${process.pid}-${randomBytes(3).toString('hex')}`;
    execFileSync('ip', ['netns', 'add', name]);
    const ns = new Netns(name);
    try {
      ns.exec('ip', ['link', 'set', 'lo', 'up']);
    } catch (e) {
      ns.delete();
      throw e;
    }
    return ns;
  }

  /** The `netns` option of a query in this namespace. */
  get spec(): { name: string } {
    return { name: this.name };
  }

  /** Runs a command inside the namespace and returns its standard output. */
  exec(cmd: string, args: readonly string[] = [], options: { input?: string } = {}): string {
    // stderr is kept from the test output (ss -e complains about a missing cgroup2 mount).
    return execFileSync('ip', ['netns', 'exec', this.name, cmd, ...args], {
      encoding: 'utf8',
      input: options.input,
      maxBuffer: 64 << 20,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  }

  /** `ss ARGS` inside the namespace, as lines. */
  ss(args: readonly string[]): string[] {
    return this.exec('ss', args)
      .split('\n')
      .filter((l) => l.trim() !== '');
  }

  delete(): void {
    spawnSync('ip', ['netns', 'delete', this.name], { stdio: 'ignore' });
  }
}

/** The description of a socket a holder opened. */
export interface HeldSocket {
  /** The holder's name for it, for later requests. */
  sock: string;
  fd: number;
  inode: number;
  localAddress?: string;
  localPort?: number;
  remoteAddress?: string;
  remotePort?: number;
  /** UNIX sockets: the bound name, `@...` for an abstract one. */
  name?: string;
}

type Reply = { id?: number; ok: boolean; result?: unknown; error?: string };

/**
 * A socket-holder child process inside a namespace: `node test/helpers/socket-holder.mjs`
 * (TCP, UDP) or `python3 test/helpers/socket-holder.py` (UNIX, MPTCP), optionally as
 * the user `nobody`.
 */
export class Holder {
  private nextId = 0;
  private readonly waiting = new Map<number, (r: Reply) => void>();
  private stderr = '';

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    /** The holder's process id (the same process `ip netns exec` became). */
    readonly pid: number,
    /** The holder's user id. */
    readonly uid: number,
  ) {}

  static async start(ns: Netns, kind: 'node' | 'python', options: { user?: 'nobody' } = {}): Promise<Holder> {
    const script = join(REPO, 'test/helpers', kind === 'node' ? 'socket-holder.mjs' : 'socket-holder.py');
    // Another user cannot run a python3 under /root (pyenv): take the system one then.
    const program = kind === 'node' ? process.execPath : options.user && existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
    const asUser = options.user ? ['setpriv', `--reuid=${options.user}`, '--regid=nogroup', '--clear-groups'] : [];
    const child = spawn('ip', ['netns', 'exec', ns.name, ...asUser, program, script], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const lines = createInterface({ input: child.stdout });
    const first = await new Promise<{ pid: number; uid: number }>((resolve, reject) => {
      const fail = () => reject(new Error(`socket holder (${kind}) did not start: ${stderr}`));
      child.once('exit', fail);
      lines.once('line', (line) => {
        child.off('exit', fail);
        try {
          resolve(JSON.parse(line) as { pid: number; uid: number });
        } catch {
          reject(new Error(`socket holder (${kind}) said: ${line}\n${stderr}`));
        }
      });
    });
    const holder = new Holder(child, first.pid, first.uid);
    child.stderr.on('data', (d: Buffer) => (holder.stderr += d.toString()));
    lines.on('line', (line) => {
      const reply = JSON.parse(line) as Reply;
      const resolve = reply.id !== undefined ? holder.waiting.get(reply.id) : undefined;
      if (resolve) {
        holder.waiting.delete(reply.id!);
        resolve(reply);
      }
    });
    child.on('exit', (code) => {
      for (const resolve of holder.waiting.values()) resolve({ ok: false, error: `holder exited with ${code}: ${holder.stderr}` });
      holder.waiting.clear();
    });
    return holder;
  }

  /** Sends one request and waits for its reply. @throws Error with the holder's message when it fails. */
  async request<T>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = ++this.nextId;
    const reply = new Promise<Reply>((resolve) => this.waiting.set(id, resolve));
    this.child.stdin.write(JSON.stringify({ id, op, ...args }) + '\n');
    const r = await reply;
    if (!r.ok) throw new Error(`holder ${op} failed: ${r.error}`);
    return r.result as T;
  }

  /** The socket inodes in /proc/PID/fd of the holder, read from outside. */
  socketInodes(): Set<number> {
    const out = new Set<number>();
    for (const fd of readdirSync(`/proc/${this.pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${this.pid}/fd/${fd}`));
        if (m) out.add(Number(m[1]));
      } catch {
        // Closed meanwhile.
      }
    }
    return out;
  }

  /** Closes stdin and waits for the holder to exit (kills it after a second). */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 1000);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * The roff source of sock_diag(7): the installed page, else the copy in
 * /work/shared/seed; undefined when neither exists. SOCKDIAG_SOCK_DIAG_7 names another
 * (plain) file to use instead.
 */
export function sockDiagManPage(): string | undefined {
  const chosen = process.env.SOCKDIAG_SOCK_DIAG_7;
  if (chosen) return existsSync(chosen) ? readFileSync(chosen, 'utf8') : undefined;
  const installed = '/usr/share/man/man7/sock_diag.7.gz';
  if (existsSync(installed)) {
    const r = spawnSync('zcat', [installed], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout) return r.stdout;
  }
  const seed = '/work/shared/seed/sock_diag.7';
  if (existsSync(seed)) return readFileSync(seed, 'utf8');
  return undefined;
}
