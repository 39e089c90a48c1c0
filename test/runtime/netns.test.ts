/** withNetns and NetlinkSocket.open({ netns }) against real network namespaces. */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readlinkSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TcpState, decodeInetDiagMsg } from '../../generated/inet_diag.js';
import { NetlinkSocket, withNetns, type NetnsSpec } from '../../runtime/index.js';
import { BY_FAMILY, DUMP, SOCK_DIAG, isRoot, openFds, tcpDumpRequest } from './requests.js';

const NAME = `sockdiag-rt-${process.pid}`;
const currentNetns = () => readlinkSync('/proc/thread-self/ns/net');

/** The IPv4 TCP sockets seen through `s`, as port, state and inode (decoded while each message's view is valid). */
function tcpSockets(s: NetlinkSocket) {
  const sockets: { port: number; state: number; inode: number }[] = [];
  for (const m of s.request(BY_FAMILY, DUMP, tcpDumpRequest())) {
    const msg = decodeInetDiagMsg(m.view, m.offset, m.length);
    sockets.push({ port: msg.id.sport, state: msg.state, inode: msg.inode });
  }
  return sockets;
}

describe('namespace errors', () => {
  it('reports a missing namespace as ENOENT, naming it, without leaking descriptors', () => {
    const missing = `${NAME}-missing`;
    const before = openFds();
    expect(() => NetlinkSocket.open(SOCK_DIAG, { netns: { name: missing } })).toThrow(
      expect.objectContaining({ name: 'SyscallError', code: 'ENOENT', message: expect.stringContaining(`"${missing}"`) }),
    );
    expect(() => withNetns({ pid: 0x7fffffff }, () => 0)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(openFds()).toBe(before);
  });

  it('refuses names that are not plain names', () => {
    expect(() => withNetns({ name: '../etc' }, () => 0)).toThrow(TypeError);
    expect(() => withNetns({ pid: -1 }, () => 0)).toThrow(TypeError);
  });

  it('refuses a spec without its string (JavaScript callers), naming what it got', () => {
    const bad = (spec: unknown) => () => withNetns(spec as NetnsSpec, () => 0);
    expect(bad({ name: undefined })).toThrow('not a network namespace name: undefined');
    expect(bad({ name: 7 })).toThrow('not a network namespace name: 7');
    expect(bad({ path: '' })).toThrow('not a network namespace file: ""');
    expect(bad({ path: null })).toThrow('not a network namespace file: null');
  });
});

describe.skipIf(!isRoot)('inside a namespace (skipped unless root: needs `ip netns add`)', () => {
  let child: ChildProcess | undefined;
  let port: number;

  beforeAll(async () => {
    execFileSync('ip', ['netns', 'add', NAME]);
    // A TCP listener inside the namespace, in a process of its own (`ip netns exec` execs, so the pid stays).
    const script = "const s = require('net').createServer().listen(0, '0.0.0.0', () => console.log(s.address().port))";
    child = spawn('ip', ['netns', 'exec', NAME, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = (await once(child.stdout!, 'data')) as [Buffer];
    port = Number(line.toString().trim());
  });

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill();
      await once(child, 'exit');
    }
    execFileSync('ip', ['netns', 'del', NAME]);
  });

  it('runs a function in the namespace and moves the thread back', () => {
    const home = currentNetns();
    const inside = withNetns({ name: NAME }, currentNetns);
    expect(inside).not.toBe(home);
    expect(currentNetns()).toBe(home);
    expect(withNetns({ path: `/run/netns/${NAME}` }, currentNetns)).toBe(inside);
    expect(withNetns({ pid: child!.pid! }, currentNetns)).toBe(inside);
  });

  it('moves back when the function throws, and refuses an async function', () => {
    const home = currentNetns();
    expect(() =>
      withNetns({ name: NAME }, () => {
        throw new Error('inside');
      }),
    ).toThrow('inside');
    expect(currentNetns()).toBe(home);
    expect(() => withNetns({ name: NAME }, async () => 0)).toThrow(TypeError);
    expect(currentNetns()).toBe(home);
  });

  it('opens a socket that sees the sockets of the namespace only', () => {
    using inside = NetlinkSocket.open(SOCK_DIAG, { netns: { name: NAME } });
    using outside = NetlinkSocket.open(SOCK_DIAG);
    const there = tcpSockets(inside);
    expect(there).toEqual([{ port, state: TcpState.listen, inode: expect.any(Number) }]);
    expect(tcpSockets(outside).map((s) => s.inode)).not.toContain(there[0]!.inode);
  });
});
