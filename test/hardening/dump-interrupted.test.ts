/**
 * Interrupted dumps (NLM_F_DUMP_INTR): sockets change while the kernel dumps them.
 *
 * 1. The retry logic, with a scripted reply sequence (the kernel decides when it sets
 *    the flag, so the sequence is played through a stand-in netlink socket): the
 *    interruption is reported in the generator's return value and `diag.status`, and
 *    with `retries` the dump runs again and yields each socket (by cookie) once.
 * 2. Live: dumps of a namespace holding 10,000 established sockets while a C helper
 *    (test/hardening/lib/churn.c) opens and closes connections and UNIX pairs as fast
 *    as it can. Every dump must finish without throwing, a dump with `retries` must
 *    not repeat a cookie, and whether the kernel ever flagged a dump is reported: when
 *    it never does within the bound, that assertion is skipped with the reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeInetDiagMsg, encodeInetDiagMsg } from '../../generated/inet_diag.js';
import { decodeUnixDiagMsg, encodeUnixDiagMsg } from '../../generated/unix_diag.js';
import { SockDiag, type DumpStatus } from '../../query/session.js';
import type { NetlinkMessage } from '../../runtime/netlink-socket.js';
import { kernelTestsSkipReason, Netns } from '../helpers/netns.js';
import { compileC, gccMissing, removeCompiled, startHelper, type Helper } from './lib/c-tools.js';
import { fixturePayloads } from './lib/messages.js';
import { holdSockets, type Workload } from './lib/workload.js';

// ---------------------------------------------------------------------------------
// 1. Scripted replies

type Attempt = { cookies: number[]; interrupted: boolean };

const inetPayload = fixturePayloads('tcp-established.json')[0]!;
const unixPayload = fixturePayloads('unix-all-show.json')[0]!;

function inetMessage(cookie: number): NetlinkMessage {
  const msg = decodeInetDiagMsg(new DataView(inetPayload.buffer), 0, 72);
  const bytes = encodeInetDiagMsg({ ...msg, id: { ...msg.id, cookie: BigInt(cookie) } });
  return { type: 20, flags: 2, seq: 1, pid: 1, view: new DataView(bytes.buffer), offset: 0, length: bytes.length };
}

function unixMessage(cookie: number): NetlinkMessage {
  const msg = decodeUnixDiagMsg(new DataView(unixPayload.buffer), 0, 16);
  const bytes = encodeUnixDiagMsg({ ...msg, udiagCookie: BigInt(cookie) });
  return { type: 20, flags: 2, seq: 1, pid: 1, view: new DataView(bytes.buffer), offset: 0, length: bytes.length };
}

/** A SockDiag whose netlink socket plays `attempts`, one per request (per message or per receive buffer, whichever the session asks for). */
function scripted(attempts: Attempt[], make: (cookie: number) => NetlinkMessage) {
  const diag = SockDiag.open();
  let requests = 0;
  const next = () => attempts[Math.min(requests++, attempts.length - 1)]!;
  const fake = {
    *request(): Generator<NetlinkMessage, DumpStatus> {
      const a = next();
      for (const c of a.cookies) yield make(c);
      return { interrupted: a.interrupted };
    },
    async *requestAsync(): AsyncGenerator<NetlinkMessage, DumpStatus> {
      const a = next();
      for (const c of a.cookies) yield make(c);
      return { interrupted: a.interrupted };
    },
    // The same replies one receive buffer at a time (two messages per buffer).
    *requestBatches(): Generator<NetlinkMessage[], DumpStatus> {
      const a = next();
      for (let i = 0; i < a.cookies.length; i += 2) yield a.cookies.slice(i, i + 2).map(make);
      return { interrupted: a.interrupted };
    },
    async *requestBatchesAsync(): AsyncGenerator<NetlinkMessage[], DumpStatus> {
      const a = next();
      for (let i = 0; i < a.cookies.length; i += 2) yield a.cookies.slice(i, i + 2).map(make);
      return { interrupted: a.interrupted };
    },
    close() {},
  };
  // The real socket is closed and replaced: `socket` is private, this is a test seam.
  (diag as unknown as { socket: { close(): void } }).socket.close();
  (diag as unknown as { socket: unknown }).socket = fake;
  return { diag, requests: () => requests };
}

function drain<T, R>(g: Generator<T, R>): { items: T[]; result: R } {
  const items: T[] = [];
  let r = g.next();
  for (; !r.done; r = g.next()) items.push(r.value);
  return { items, result: r.value };
}

async function drainAsync<T, R>(g: AsyncGenerator<T, R>): Promise<{ items: T[]; result: R }> {
  const items: T[] = [];
  let r = await g.next();
  for (; !r.done; r = await g.next()) items.push(r.value);
  return { items, result: r.value };
}

const cookies = (xs: { cookie: bigint }[]) => xs.map((x) => Number(x.cookie));
const INTR: Attempt[] = [
  { cookies: [1, 2, 3], interrupted: true },
  { cookies: [2, 3, 4], interrupted: true },
  { cookies: [3, 4, 5], interrupted: false },
];

describe('retry logic (scripted replies)', () => {
  it('retries 0: the interruption is in the return value and diag.status; the sockets as they came', () => {
    const { diag, requests } = scripted(INTR, inetMessage);
    const { items, result } = drain(diag.inet({ family: 'inet' }));
    expect(cookies(items)).toEqual([1, 2, 3]);
    expect(result.interrupted).toBe(true);
    expect(diag.status.interrupted).toBe(true);
    expect(requests()).toBe(1);
  });

  it('retries 2: runs again until a dump is whole, each cookie once, not interrupted in the end', () => {
    const { diag, requests } = scripted(INTR, inetMessage);
    const { items, result } = drain(diag.inet({ family: 'inet', retries: 2 }));
    expect(cookies(items)).toEqual([1, 2, 3, 4, 5]);
    expect(result.interrupted).toBe(false);
    expect(diag.status.interrupted).toBe(false);
    expect(requests()).toBe(3);
  });

  it('retries 1 (not enough): stops after one retry, each cookie once, still reported as interrupted', () => {
    const { diag, requests } = scripted(INTR, inetMessage);
    const { items, result } = drain(diag.inet({ family: 'inet', retries: 1 }));
    expect(cookies(items)).toEqual([1, 2, 3, 4]);
    expect(result.interrupted).toBe(true);
    expect(requests()).toBe(2);
  });

  it('retries with family all: each family retried on its own, interrupted if either stayed so', () => {
    // UDP: one request per family (TCP of both families is one TCPDIAG_GETSOCK request).
    const { diag, requests } = scripted([{ cookies: [1], interrupted: true }, { cookies: [1, 2], interrupted: false }, { cookies: [7], interrupted: true }], inetMessage);
    const { items, result } = drain(diag.inet({ protocol: 'udp', retries: 1 }));
    expect(cookies(items)).toEqual([1, 2, 7]);
    expect(result.interrupted).toBe(true);
    expect(requests()).toBe(4);
  });

  it('UNIX dumps the same way', () => {
    const { diag } = scripted(INTR, unixMessage);
    const { items, result } = drain(diag.unix({ retries: 2 }));
    expect(cookies(items)).toEqual([1, 2, 3, 4, 5]);
    expect(result.interrupted).toBe(false);
    const once = scripted(INTR, unixMessage);
    expect(drain(once.diag.unix()).result.interrupted).toBe(true);
  });

  it('the async iterators report the interruption', async () => {
    const a = scripted(INTR, inetMessage);
    expect((await drainAsync(a.diag.inetAsync({ family: 'inet' }))).result.interrupted).toBe(true);
    const b = scripted(INTR, unixMessage);
    expect((await drainAsync(b.diag.unixAsync())).result.interrupted).toBe(true);
  });

  it('the async iterators honor `retries` too', async () => {
    const a = scripted(INTR, inetMessage);
    const inet = await drainAsync(a.diag.inetAsync({ family: 'inet', retries: 2 }));
    const b = scripted(INTR, unixMessage);
    const unix = await drainAsync(b.diag.unixAsync({ retries: 2 }));
    expect({ inet: [cookies(inet.items), inet.result.interrupted], unix: [cookies(unix.items), unix.result.interrupted] }).toEqual({
      inet: [[1, 2, 3, 4, 5], false],
      unix: [[1, 2, 3, 4, 5], false],
    });
  });

  it('views honor `retries` the same way, sync and async (each read in the loop)', async () => {
    const a = scripted(INTR, inetMessage);
    const sync: number[] = [];
    for (const v of a.diag.inetViews({ family: 'inet', retries: 2 })) sync.push(Number(v.cookie));
    const b = scripted(INTR, inetMessage);
    const async: number[] = [];
    for await (const v of b.diag.inetViewsAsync({ family: 'inet', retries: 2 })) async.push(Number(v.cookie));
    expect({ sync, async, interrupted: [a.diag.status.interrupted, b.diag.status.interrupted] }).toEqual({ sync: [1, 2, 3, 4, 5], async: [1, 2, 3, 4, 5], interrupted: [false, false] });
  });
});

// ---------------------------------------------------------------------------------
// 2. Live

const HELD = 10_000;
const ROUNDS = 40;
const ROUND_BUDGET_MS = 8_000;
const skipReason = kernelTestsSkipReason() ?? gccMissing;
if (skipReason) console.warn(`test/hardening/dump-interrupted.test.ts (live part) skipped: ${skipReason}`);

describe.skipIf(!!skipReason)(`dumps racing connection churn (${HELD.toLocaleString('en-US')} held sockets)${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let ns: Netns;
  let held: Workload;
  let churn: Helper;
  const seen = { dumps: 0, interrupted: 0, duplicatesWithoutRetries: 0, fewestHeld: Infinity, cycles: 0, ms: 0 };

  beforeAll(async () => {
    ns = Netns.create('intr');
    held = await holdSockets(ns.name, HELD);
    churn = await startHelper(ns.name, compileC('test/hardening/lib/churn.c'), ['30000']);
  }, 300_000);

  afterAll(async () => {
    await churn?.stop();
    await held?.stop();
    ns?.delete();
    removeCompiled();
  });

  it(`every racing dump finishes without throwing; with retries no cookie repeats (up to ${ROUNDS} rounds)`, async () => {
    const t0 = performance.now();
    using diag = SockDiag.open({ netns: ns.spec });
    for (let round = 0; round < ROUNDS && performance.now() - t0 < ROUND_BUDGET_MS; round++) {
      // Without retries: the flag is what tells the caller; count repeats for the record.
      const plain = drain(diag.inet({ protocol: 'tcp' }));
      seen.dumps++;
      if (plain.result.interrupted) seen.interrupted++;
      expect(diag.status.interrupted).toBe(plain.result.interrupted);
      const all = cookies(plain.items);
      seen.duplicatesWithoutRetries += all.length - new Set(all).size;
      // The held sockets do not change: a dump that shows fewer missed some (recorded, see the report).
      seen.fewestHeld = Math.min(seen.fewestHeld, plain.items.filter((s) => s.dport >= 20_000 && s.dport < 20_010 || (s.sport >= 20_000 && s.sport < 20_010)).length);

      // With retries: never a repeated cookie.
      const retried = drain(diag.inet({ protocol: 'tcp', retries: 3 }));
      seen.dumps++;
      if (retried.result.interrupted) seen.interrupted++;
      const rc = cookies(retried.items);
      expect(new Set(rc).size, 'a cookie repeated in a retried dump').toBe(rc.length);
      // The held sockets never change; a racing dump may miss one only if the kernel skipped it without the flag (recorded above for plain dumps).
      expect(rc.length).toBeGreaterThanOrEqual(HELD * 0.99);

      const unix = drain(diag.unix({ retries: 3 }));
      seen.dumps++;
      if (unix.result.interrupted) seen.interrupted++;
      const uc = cookies(unix.items);
      expect(new Set(uc).size, 'a cookie repeated in a retried UNIX dump').toBe(uc.length);

      // The async iterator races too.
      const asyncRun = await drainAsync(diag.inetAsync({ protocol: 'tcp', family: 'inet' }));
      seen.dumps++;
      if (asyncRun.result.interrupted) seen.interrupted++;
    }
    seen.ms = performance.now() - t0;
    await churn.stop();
    seen.cycles = Number(churn.lines.find((l) => l.startsWith('cycles'))?.split(' ')[1] ?? 0);
    console.log(
      `dump-interrupted: ${seen.dumps} dumps in ${(seen.ms / 1000).toFixed(1)} s racing ${seen.cycles.toLocaleString('en-US')} connect/accept/close + socketpair cycles; ` +
        `NLM_F_DUMP_INTR on ${seen.interrupted}; repeated cookies without retries: ${seen.duplicatesWithoutRetries}; ` +
        `held sockets in the sparsest plain dump: ${seen.fewestHeld} of ${held.sockets + held.listeners}`,
    );
    expect(seen.cycles, 'the churn helper did churn').toBeGreaterThan(1000);
  }, 120_000);

  it('NLM_F_DUMP_INTR was reported at least once (skipped, with the numbers, when the kernel never set it)', (ctx) => {
    if (seen.dumps === 0) ctx.skip('the racing dumps did not run');
    if (seen.interrupted === 0) {
      ctx.skip(
        `the kernel never set NLM_F_DUMP_INTR in ${seen.dumps} dumps racing ${seen.cycles.toLocaleString('en-US')} connection cycles ` +
          `(inet_diag and unix_diag do not call nl_dump_check_consistent, so they cannot flag a dump); the retry logic is covered by the scripted tests`,
      );
    }
    expect(seen.interrupted).toBeGreaterThan(0);
  });
});
