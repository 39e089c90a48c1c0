/** NetlinkSocket against the real kernel: sock_diag requests, errors, descriptors, waiting. */
import { fstatSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SockDiagMcastGroup } from '../../generated/sock_diag.js';
import { AddressFamily, MsgFlags, SocketType, SocketTypeFlags } from '../../generated/socket.js';
import { UNIX_DIAG_MSG_SIZE, decodeUnixDiagAttrs, decodeUnixDiagMsg, udiagShowMask } from '../../generated/unix_diag.js';
import { NetlinkError, NetlinkSocket, type NetlinkMessage } from '../../runtime/index.js';
import * as libc from '../../runtime/libc.js';
import { BY_FAMILY, DUMP, SOCK_DIAG, openFds, unixRequest } from './requests.js';

const NO_SUCH_FAMILY = 255;
const SHOW_ALL = udiagShowMask(['name', 'vfs', 'peer', 'rqlen', 'meminfo', 'uid']);

/** Socket name (UNIX_DIAG_NAME) of a UNIX dump message, if any. */
function unixName(m: NetlinkMessage): string | undefined {
  const attrs = decodeUnixDiagAttrs(m.view, m.offset + UNIX_DIAG_MSG_SIZE, m.length - UNIX_DIAG_MSG_SIZE);
  return attrs.name && Buffer.from(attrs.name).toString().replace(/\0+$/, '');
}

/** Drains a reply, returning its messages' inodes and how it ended. */
function collect(replies: Generator<NetlinkMessage, { interrupted: boolean }>) {
  const inodes: number[] = [];
  let r = replies.next();
  for (; !r.done; r = replies.next()) inodes.push(decodeUnixDiagMsg(r.value.view, r.value.offset, r.value.length).udiagIno);
  return { inodes, end: r.value };
}

/** Whether anything is queued on the socket. */
const queued = (s: NetlinkSocket) => libc.recvfrom(s.fd, new Uint8Array(1), 0, MsgFlags.peek | MsgFlags.trunc, null) !== undefined;

describe('requests and replies', () => {
  let dir: string;
  let path: string;
  let server: net.Server;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sockdiag-rt-'));
    path = join(dir, 'listener.sock');
    server = net.createServer();
    await new Promise<void>((resolve) => server.listen(path, resolve));
  });

  afterAll(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('yields the messages of a UNIX dump and ends at NLMSG_DONE', () => {
    using s = NetlinkSocket.open(SOCK_DIAG);
    const names: (string | undefined)[] = [];
    const replies = s.request(BY_FAMILY, DUMP, unixRequest({ show: SHOW_ALL }));
    let r = replies.next();
    for (; !r.done; r = replies.next()) {
      expect(r.value.type).toBe(BY_FAMILY);
      expect(r.value.pid).toBe(s.portId);
      names.push(unixName(r.value));
    }
    expect(r.value).toEqual({ interrupted: false });
    expect(names).toContain(path);
    expect(queued(s)).toBe(false);
  });

  it('gives the same dump asynchronously', async () => {
    using s = NetlinkSocket.open(SOCK_DIAG);
    const names: (string | undefined)[] = [];
    const replies = s.requestAsync(BY_FAMILY, DUMP, unixRequest({ show: SHOW_ALL }));
    let r = await replies.next();
    for (; !r.done; r = await replies.next()) names.push(unixName(r.value));
    expect(r.value).toEqual({ interrupted: false });
    expect(names).toContain(path);
    expect(queued(s)).toBe(false);
  });

  it('ends a lookup after its single reply, and reports a missing socket as ENOENT', () => {
    using s = NetlinkSocket.open(SOCK_DIAG);
    const fd = libc.socket(AddressFamily.unix, SocketType.dgram | SocketTypeFlags.cloexec, 0);
    const inode = Number(fstatSync(fd).ino);
    const found = collect(s.request(BY_FAMILY, 0, unixRequest({ inode, noCookie: true })));
    expect(found).toEqual({ inodes: [inode], end: { interrupted: false } });
    expect(queued(s)).toBe(false);
    libc.close(fd);
    expect(() => collect(s.request(BY_FAMILY, 0, unixRequest({ inode, noCookie: true })))).toThrow(
      expect.objectContaining({ name: 'NetlinkError', code: 'ENOENT', errno: constants.errno.ENOENT }),
    );
  });

  it('turns an invalid request into a NetlinkError with a code', async () => {
    using s = NetlinkSocket.open(SOCK_DIAG);
    const bad = unixRequest({ family: NO_SUCH_FAMILY });
    let error: unknown;
    try {
      collect(s.request(BY_FAMILY, DUMP, bad));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NetlinkError);
    expect(error).toMatchObject({ code: 'EINVAL', errno: constants.errno.EINVAL });
    expect((error as Error).message).toMatch(/EINVAL/);
    await expect(s.requestAsync(BY_FAMILY, DUMP, bad).next()).rejects.toThrow(NetlinkError);
    // The socket still works afterwards.
    expect(collect(s.request(BY_FAMILY, DUMP, unixRequest())).inodes.length).toBeGreaterThan(0);
  });

  it('drains a dump the caller stopped reading, so the next dump is not refused', async () => {
    using s = NetlinkSocket.open(SOCK_DIAG);
    for (const _ of s.request(BY_FAMILY, DUMP, unixRequest())) break;
    for await (const _ of s.requestAsync(BY_FAMILY, DUMP, unixRequest())) break;
    expect(queued(s)).toBe(false);
    expect(collect(s.request(BY_FAMILY, DUMP, unixRequest())).end).toEqual({ interrupted: false });
  });

  it('refuses a request while another reply is being received, which goes on to its end; then takes the next', async () => {
    // Other test files make and close UNIX sockets meanwhile: a dump is whole when it ends
    // at NLMSG_DONE and holds this file's listener.
    using s = NetlinkSocket.open(SOCK_DIAG);
    const busy = /^this netlink socket is receiving the reply to another request; one request at a time/;
    // Blocking: a second request from inside the loop of the first.
    const names: (string | undefined)[] = [];
    const replies = s.request(BY_FAMILY, DUMP, unixRequest({ show: SHOW_ALL }));
    let r = replies.next();
    expect(() => s.request(BY_FAMILY, DUMP, unixRequest()).next()).toThrow(busy);
    for (; !r.done; r = replies.next()) names.push(unixName(r.value));
    expect(r.value).toEqual({ interrupted: false });
    expect(names).toContain(path);
    // On the event loop: two iterations started at once (this used to hang: each took the other's messages).
    const listed = async () => {
      const out: (string | undefined)[] = [];
      for await (const m of s.requestAsync(BY_FAMILY, DUMP, unixRequest({ show: SHOW_ALL }))) out.push(unixName(m));
      return out;
    };
    const [a, b] = await Promise.allSettled([listed(), listed()]);
    expect(a).toEqual({ status: 'fulfilled', value: expect.arrayContaining([path]) });
    expect(b).toMatchObject({ status: 'rejected', reason: { message: expect.stringMatching(busy) } });
    expect(collect(s.request(BY_FAMILY, DUMP, unixRequest())).end).toEqual({ interrupted: false });
  });
});

describe('descriptors', () => {
  it('opens and closes 10,000 sockets without leaking a descriptor', () => {
    const before = openFds();
    for (let i = 0; i < 5_000; i++) {
      NetlinkSocket.open(SOCK_DIAG).close();
      using _ = NetlinkSocket.open(SOCK_DIAG);
    }
    expect(openFds()).toBe(before);
  });

  it('closes the descriptor when opening fails half-way', () => {
    const before = openFds();
    // There is no multicast group 0: joining it fails after socket() succeeded.
    expect(() => NetlinkSocket.open(SOCK_DIAG, { groups: [0] })).toThrow(expect.objectContaining({ name: 'SyscallError', code: 'EINVAL', message: expect.stringContaining('group 0') }));
    expect(openFds()).toBe(before);
  });

  it('closes on leaving a using block; close is idempotent and later calls fail with EBADF', () => {
    let socket: NetlinkSocket;
    {
      using s = NetlinkSocket.open(SOCK_DIAG);
      socket = s;
      expect(s.closed).toBe(false);
    }
    expect(socket.closed).toBe(true);
    socket.close();
    expect(() => socket.send(BY_FAMILY, DUMP, unixRequest())).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });

  it('sets and reads the receive buffer size', () => {
    using s = NetlinkSocket.open(SOCK_DIAG, { rcvbuf: 64 * 1024 });
    expect(s.getReceiveBuffer()).toBeGreaterThanOrEqual(64 * 1024);
    s.setReceiveBuffer(256 * 1024);
    expect(s.getReceiveBuffer()).toBeGreaterThanOrEqual(256 * 1024);
  });
});

describe('waiting without blocking the event loop', () => {
  it('keeps timers firing while messages() waits, and ends it cleanly on close', async () => {
    const s = NetlinkSocket.open(SOCK_DIAG);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const seen: NetlinkMessage[] = [];
    const iteration = (async () => {
      for await (const m of s.messages()) seen.push(m);
    })();
    await sleep(150);
    s.close();
    await expect(iteration).resolves.toBeUndefined();
    clearInterval(timer);
    expect(ticks).toBeGreaterThanOrEqual(10);
    expect(seen).toEqual([]);
  });

  it('fails a reply wait with EBADF when the socket is closed', async () => {
    const s = NetlinkSocket.open(SOCK_DIAG);
    const never = s.receiveAsync(12345).next();
    await sleep(20);
    s.close();
    await expect(never).rejects.toMatchObject({ name: 'SyscallError', code: 'EBADF' });
  });

  it('lets the event loop turn between the receive buffers of a big dump', async () => {
    const fds = Array.from({ length: 3000 }, () => libc.socket(AddressFamily.unix, SocketType.dgram | SocketTypeFlags.cloexec, 0));
    try {
      using s = NetlinkSocket.open(SOCK_DIAG);
      let turns = 0;
      let spinning = true;
      const spin = () => {
        turns++;
        if (spinning) setImmediate(spin);
      };
      setImmediate(spin);
      const turnsSeen = new Set<number>();
      let count = 0;
      for await (const _ of s.requestAsync(BY_FAMILY, DUMP, unixRequest({ show: SHOW_ALL }))) {
        turnsSeen.add(turns);
        count++;
      }
      spinning = false;
      expect(count).toBeGreaterThanOrEqual(fds.length);
      // One turn per receive buffer: more than one buffer was needed, and the loop ran between them.
      expect(turnsSeen.size).toBeGreaterThan(2);
    } finally {
      for (const fd of fds) libc.close(fd);
    }
  });
});

describe('receive queue overflow', () => {
  it('surfaces ENOBUFS from a small receive buffer as a SyscallError', async () => {
    using s = NetlinkSocket.open(SOCK_DIAG, { groups: [SockDiagMcastGroup['inet-tcp-destroy']], rcvbuf: 1 });
    expect(s.getReceiveBuffer()).toBeLessThan(8 * 1024);
    // Every destroyed TCP socket is announced to the group; nobody reads, so the queue overflows.
    for (let i = 0; i < 50; i++) {
      const server = net.createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await sleep(50);
    await expect(s.messages().next()).rejects.toMatchObject({ name: 'SyscallError', code: 'ENOBUFS', errno: constants.errno.ENOBUFS });
  });
});
