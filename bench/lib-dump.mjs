// The library side of the benchmark, run as a whole process by bench/run.ts:
// plain ESM over the built package (the bundle in dist/lib; dist/ modules for the
// internals of the decode case), so no TypeScript loader is timed.
//
//   node bench/lib-dump.mjs --netns NAME --mode sync|async|views|decode|lookup|load [--ext] [--filter EXPR] [--count N] [--no-thread] [--views] [--few]
//
// sync/async: one TCP dump, IPv4 + IPv6, every socket decoded (with --ext:
// tcp_info, meminfo, skmeminfo and cong asked for and read). --filter takes an ss
// filter expression, which the library compiles into the kernel's bytecode.
// views: the sync dump through inetViews(), reading the same fields from the views.
// --few: read only the state, the ports and tcp_info's rtt (a monitor's loop).
// decode: the same dump decoded alone, cold then warm (--views: read through views instead).
// lookup: --count lookups by 4-tuple through one open SockDiag, over sockets taken
// from a dump first (not timed). load: nothing but loading the library (a floor).
// Prints one JSON line: what was counted and the in-process time.
import { parseArgs } from 'node:util';
// The package entry, as users import it (the bundle in dist/lib).
import { inet, inetAsync, inetViews, InetSocketView, parseFilter, readerThreadStats, ringReceiverStats, SockDiag } from '../dist/lib/sockdiag.js';

const { values } = parseArgs({
  options: {
    netns: { type: 'string' },
    mode: { type: 'string', default: 'sync' },
    ext: { type: 'boolean', default: false },
    filter: { type: 'string' },
    count: { type: 'string', default: '10000' },
    'no-thread': { type: 'boolean', default: false },
    views: { type: 'boolean', default: false },
    few: { type: 'boolean', default: false },
  },
});
const netns = values.netns ? { name: values.netns } : undefined;
const EXT = ['info', 'meminfo', 'skmeminfo', 'cong'];

let sum = 0;
/** Reads fields from every part of the record, so lazy decoding would be paid for too. */
function consumeAll(s) {
  sum += s.sport + s.dport + s.src.length + s.dst.length + s.inode + s.state.length;
  const i = s.info;
  if (i !== undefined) sum += i.rtt + i.sndCwnd + i.rcvSpace + (i.bytesAcked !== undefined ? 1 : 0);
  if (s.meminfo !== undefined) sum += s.meminfo.tmem;
  if (s.skmeminfo !== undefined) sum += s.skmeminfo[0] ?? 0;
  if (s.cong !== undefined) sum += s.cong.length;
}

/** Reads what a monitor watching round-trip times reads. */
function consumeFew(s) {
  sum += s.sport + s.dport + s.state.length + (s.info?.rtt ?? 0);
}
const consume = values.few ? consumeFew : consumeAll;

const query = { netns, ext: values.ext ? EXT : undefined, readerThread: !values['no-thread'] };
if (values.filter !== undefined) query.filter = parseFilter(values.filter);

let result;
if (values.mode === 'sync' || values.mode === 'async' || values.mode === 'views') {
  let sockets = 0;
  let withInfo = 0;
  const t0 = performance.now();
  if (values.mode === 'views') {
    for (const s of inetViews(query)) {
      sockets++;
      if (s.info !== undefined) withInfo++;
      consume(s);
    }
  } else if (values.mode === 'sync') {
    for (const s of inet(query)) {
      sockets++;
      if (s.info !== undefined) withInfo++;
      consume(s);
    }
  } else {
    for await (const s of inetAsync(query)) {
      sockets++;
      if (s.info !== undefined) withInfo++;
      consume(s);
    }
  }
  const ms = performance.now() - t0;
  result = { mode: values.mode, sockets, withInfo, ms, checksum: sum, ringReceiver: ringReceiverStats(), readerThread: readerThreadStats() };
} else if (values.mode === 'decode') {
  // The decoder's own cost: the dump's datagrams are received and copied first (not
  // timed, decoder untouched), then decoded once, as cold as in a real dump (ms),
  // then a second time (warmMs).
  // Internals the package does not export, from the modules dist/lib is built from.
  const { ALL_STATES, decodeInetSocket, inetRequests } = await import('../dist/query/inet.js');
  const { NetlinkSocket, parseMessages } = await import('../dist/runtime/netlink-socket.js');
  const { NLMSGHDR_SIZE, NetlinkProtocol, NlmGetFlags } = await import('../dist/generated/netlink.js');
  const { IpProtocol } = await import('../dist/generated/socket.js');
  const datagrams = [];
  const socket = NetlinkSocket.open(NetlinkProtocol['sock-diag'], { netns, readerThread: false });
  try {
    const [request] = inetRequests(query, ALL_STATES);
    for (const batch of socket.requestBatches(request.type, NlmGetFlags.dump, request.payload)) {
      const first = batch[0];
      const last = batch.at(-1);
      const start = first.offset - NLMSGHDR_SIZE;
      const bytes = new Uint8Array(first.view.buffer.slice(start, last.offset + last.length));
      datagrams.push({ view: new DataView(bytes.buffer), length: bytes.length, type: request.type });
    }
  } finally {
    socket.close();
  }
  // The datagrams stay where they are: their views' lease never ends.
  const KEPT = { live: true };
  const decodeAll = () => {
    let sockets = 0;
    for (const d of datagrams) {
      for (const m of parseMessages(d.view, d.length)) {
        if (m.type !== d.type) continue;
        consume(values.views ? new InetSocketView(m, IpProtocol.tcp, KEPT) : decodeInetSocket(m, IpProtocol.tcp));
        sockets++;
      }
    }
    return sockets;
  };
  const t0 = performance.now();
  const sockets = decodeAll();
  const ms = performance.now() - t0;
  const checksum = sum;
  // Once more, as a process that has decoded a dump before (a monitor polling) would.
  const t1 = performance.now();
  decodeAll();
  const warmMs = performance.now() - t1;
  result = { mode: values.views ? 'decode-views' : 'decode', sockets, datagrams: datagrams.length, ms, warmMs, checksum };
} else if (values.mode === 'lookup') {
  const count = Number(values.count);
  let misses = 0;
  let ms = 0;
  let distinct = 0;
  const diag = SockDiag.open({ netns });
  try {
    // The sockets to look up come from a dump on a socket of its own, read to the end.
    const targets = [];
    for (const s of inet({ netns, states: ['established'] })) {
      if (targets.length < count) targets.push({ family: s.family, src: s.src, sport: s.sport, dst: s.dst, dport: s.dport, cookie: s.cookie });
    }
    if (targets.length === 0) throw new Error('no established sockets to look up');
    const t0 = performance.now();
    for (let i = 0; i < count; i++) {
      const t = targets[i % targets.length];
      const s = diag.inetLookup({ family: t.family, src: t.src, sport: t.sport, dst: t.dst, dport: t.dport });
      if (s === undefined || s.cookie !== t.cookie) misses++;
      else consume(s);
    }
    ms = performance.now() - t0;
    distinct = targets.length;
  } finally {
    diag.close();
  }
  result = { mode: 'lookup', lookups: count, distinct, misses, ms, perSecond: (count / ms) * 1000, checksum: sum };
} else if (values.mode === 'load') {
  result = { mode: 'load', ms: 0 };
} else {
  throw new Error(`unknown --mode ${values.mode}`);
}
process.stdout.write(JSON.stringify(result) + '\n');
