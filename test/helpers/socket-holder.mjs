// A child process that opens the TCP and UDP sockets a test asks for and keeps them
// open until its standard input closes. Plain JavaScript, so that it runs under plain
// `node`, also as another user and inside `ip netns exec`.
//
// Protocol: one JSON request per line on stdin, `{ "id": N, "op": "...", ...args }`;
// one JSON reply per line on stdout, `{ "id": N, "ok": true, "result": ... }` or
// `{ "id": N, "ok": false, "error": "..." }`. The first line it prints is
// `{ "ready": true, "pid": ..., "uid": ... }`.
//
// Every socket gets a name (`s1`, `s2`, ...) and is described as
// `{ sock, fd, inode, localAddress, localPort, remoteAddress?, remotePort? }`, the inode
// read from /proc/self/fd/FD (`socket:[INODE]`).
import dgram from 'node:dgram';
import { readlinkSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { createInterface } from 'node:readline';

/** @type {Map<string, net.Socket | net.Server | dgram.Socket>} */
const sockets = new Map();
/** The last error each socket reported (for instance ECONNRESET after a destroy), by name. */
const errors = new Map();
/** Records a socket's errors under its name instead of crashing on them. */
const watchErrors = (sock, s) => s.on('error', (e) => errors.set(sock, e.code ?? String(e)));
/** Accepted connections not yet claimed by a `connect` request, by listener name and the client's port. */
const accepted = new Map();
/** Waiters for an accepted connection, by `listener:port`. */
const acceptWaiters = new Map();
let next = 0;

const name = () => `s${++next}`;

/** The inode of the socket at file descriptor `fd` of this process. */
function inodeOf(fd) {
  const link = readlinkSync(`/proc/self/fd/${fd}`);
  const m = /^socket:\[(\d+)\]$/.exec(link);
  if (!m) throw new Error(`fd ${fd} is not a socket: ${link}`);
  return Number(m[1]);
}

/** The socket inodes this process holds, by descriptor. */
function socketFds() {
  const out = new Map();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m) out.set(Number(fd), Number(m[1]));
    } catch {
      // The descriptor of the directory listing itself is gone by now.
    }
  }
  return out;
}

/** The descriptor of a net socket or server (Node keeps it in its libuv handle). */
function netFd(s) {
  const fd = s._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('no file descriptor on the handle');
  return fd;
}

/** The descriptor of a dgram socket: from its handle when Node exposes it, else the one new socket descriptor. */
function dgramFd(s, before) {
  for (const sym of Object.getOwnPropertySymbols(s)) {
    const fd = s[sym]?.handle?.fd;
    if (typeof fd === 'number' && fd >= 0) return fd;
  }
  const added = [...socketFds().keys()].filter((fd) => !before.has(fd));
  if (added.length !== 1) throw new Error(`cannot tell the new UDP socket's descriptor: ${added.length} new sockets`);
  return added[0];
}

function describeNet(sock, s) {
  const fd = netFd(s);
  const local = s.address();
  const out = { sock, fd, inode: inodeOf(fd), localAddress: local.address, localPort: local.port };
  if (s instanceof net.Socket) Object.assign(out, { remoteAddress: s.remoteAddress, remotePort: s.remotePort });
  return out;
}

function waitAccepted(listener, port) {
  const key = `${listener}:${port}`;
  const ready = accepted.get(key);
  if (ready) {
    accepted.delete(key);
    return Promise.resolve(ready);
  }
  return new Promise((resolve) => acceptWaiters.set(key, resolve));
}

function onConnection(listener, conn) {
  // Stop reading at once, so that what the peer writes stays in the receive queue.
  conn.pause();
  conn.on('error', () => {});
  const key = `${listener}:${conn.remotePort}`;
  const waiter = acceptWaiters.get(key);
  if (waiter) {
    acceptWaiters.delete(key);
    waiter(conn);
  } else accepted.set(key, conn);
}

function get(sock) {
  const s = sockets.get(sock);
  if (!s) throw new Error(`no socket ${sock}`);
  return s;
}

const ops = {
  /** A TCP listener: `{ host, port = 0, backlog = 511 }`. */
  async listen({ host, port = 0, backlog = 511 }) {
    const server = net.createServer({ pauseOnConnect: true });
    const sock = name();
    server.on('connection', (conn) => onConnection(sock, conn));
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port, backlog }, resolve);
    });
    sockets.set(sock, server);
    return describeNet(sock, server);
  },

  /** A TCP connection to a listener of this process: `{ listener, host }`; returns both ends. */
  async connect({ listener, host }) {
    const server = get(listener);
    const port = server.address().port;
    const client = net.connect({ host, port });
    client.on('error', () => {});
    await new Promise((resolve, reject) => {
      client.once('connect', resolve);
      client.once('error', reject);
    });
    const conn = await waitAccepted(listener, client.localPort);
    const c = name();
    const s = name();
    sockets.set(c, client);
    sockets.set(s, conn);
    watchErrors(c, client);
    watchErrors(s, conn);
    return { client: describeNet(c, client), server: describeNet(s, conn) };
  },

  /** `count` connections to a listener of this process, for bulk dumps: `{ listener, host, count }`. */
  async many({ listener, host, count }) {
    const server = get(listener);
    const port = server.address().port;
    const clients = [];
    for (let i = 0; i < count; i += 100) {
      const batch = [];
      for (let j = i; j < Math.min(count, i + 100); j++) {
        const client = net.connect({ host, port });
        client.on('error', () => {});
        batch.push(
          new Promise((resolve, reject) => {
            client.once('connect', () => resolve(client));
            client.once('error', reject);
          }),
        );
      }
      clients.push(...(await Promise.all(batch)));
    }
    for (const client of clients) {
      const conn = await waitAccepted(listener, client.localPort);
      sockets.set(name(), client);
      sockets.set(name(), conn);
    }
    return { count: clients.length };
  },

  /** Writes `bytes` bytes from a TCP socket; does not wait for them to be read. */
  async write({ sock, bytes }) {
    const s = get(sock);
    s.write(Buffer.alloc(bytes, 0x61));
    return { written: bytes, writableLength: s.writableLength };
  },

  /** A UDP socket: `{ family: 4 | 6, host, connect?: { host, port } }`. */
  async udp({ family, host, connect }) {
    const before = socketFds();
    const s = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
    await new Promise((resolve, reject) => {
      s.once('error', reject);
      s.bind(0, host, resolve);
    });
    // A destroyed (aborted) socket reports an error on its next receive: keep running.
    s.on('error', () => {});
    const sock = name();
    watchErrors(sock, s);
    if (connect) await new Promise((resolve) => s.connect(connect.port, connect.host, resolve));
    sockets.set(sock, s);
    const fd = dgramFd(s, before);
    const local = s.address();
    const out = { sock, fd, inode: inodeOf(fd), localAddress: local.address, localPort: local.port };
    if (connect) {
      const remote = s.remoteAddress();
      Object.assign(out, { remoteAddress: remote.address, remotePort: remote.port });
    }
    return out;
  },

  /** Closes a socket: `{ sock }`. */
  async close({ sock }) {
    const s = get(sock);
    if (s instanceof net.Socket) s.destroy();
    else s.close();
    sockets.delete(sock);
    return {};
  },

  /** The last error of a socket (undefined while it has none): `{ sock }`. */
  async error({ sock }) {
    return { error: errors.get(sock) ?? null };
  },

  /** Sends a datagram from a UDP socket to its connected peer, or to `{ host, port }`. */
  async send({ sock, host, port }) {
    const s = get(sock);
    await new Promise((resolve) => (host ? s.send('x', port, host, resolve) : s.send('x', resolve)));
    return {};
  },

  /** The socket inodes this process holds. */
  async inodes() {
    return [...socketFds().values()];
  },
};

const write = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

const rl = createInterface({ input: process.stdin });
rl.on('line', async (line) => {
  if (!line.trim()) return;
  let req;
  try {
    req = JSON.parse(line);
  } catch (e) {
    write({ ok: false, error: `bad request: ${e.message}` });
    return;
  }
  const op = ops[req.op];
  try {
    if (!op) throw new Error(`unknown op ${req.op}`);
    write({ id: req.id, ok: true, result: await op(req) });
  } catch (e) {
    write({ id: req.id, ok: false, error: String(e?.stack ?? e) });
  }
});
// Stdin closed: the test is done with us.
rl.on('close', () => process.exit(0));
write({ ready: true, pid: process.pid, uid: process.getuid() });
