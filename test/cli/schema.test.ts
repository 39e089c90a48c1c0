/**
 * cli/output.schema.json itself: it matches the library's record types (drift), it
 * accepts what cli/json.ts makes of any record the decoders can produce (including
 * attributes no kernel at hand sends: unknown ones, kTLS/MPTCP ULP info, BPF
 * storages, struct tails of newer kernels), and it rejects what is not the output.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadSchema } from '../../generator/load.js';
import { socketJson } from '../../cli/json.js';
import type { InetSocket, UnixSocket } from '../../query/types.js';
import { buildSchema } from '../helpers/cli-schema-build.js';
import { errorsText, schema, validateDocument, validateSocket } from '../helpers/cli-schema.js';
import { attrSetValueArb, intArb, ipv4TextArb, ipv6TextArb, SEED } from '../helpers/model-values.js';

/** A schema without its descriptions: the shape only. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).filter(([k]) => k !== 'description').map(([k, v]) => [k, shape(v)]));
  return value;
}

describe('the schema matches the record types', () => {
  it('has every field of InetSocket, UnixSocket and the types they hold, and no other (npx tsx test/helpers/cli-schema-build.ts rebuilds it)', () => {
    const built = buildSchema() as typeof schema;
    // Type by type first, for a readable failure.
    expect(Object.keys(schema.$defs).sort()).toEqual(Object.keys(built.$defs).sort());
    for (const [name, def] of Object.entries(built.$defs)) {
      expect(Object.keys(schema.$defs[name]?.properties ?? {}).sort(), `properties of ${name}`).toEqual(Object.keys(def.properties ?? {}).sort());
      expect(shape(schema.$defs[name]), `$defs/${name}`).toEqual(shape(def));
    }
    expect(shape(schema)).toEqual(shape(built));
  }, 30_000);

  it('closes every object whose shape is known (additionalProperties: false)', () => {
    for (const [name, def] of Object.entries(schema.$defs)) {
      if (def.properties) expect(def.additionalProperties, name).toBe(false);
    }
  });
});

// ---------------------------------------------------------------------------------
// Records the decoders could produce, through socketJson.

const model = loadSchema(new URL('../../schema', import.meta.url).pathname);
const setNamed = (tsName: string) => [...model.sets.values()].find((s) => s.tsName === tsName)!;

const stateArb = fc.oneof(
  fc.constantFrom('established', 'syn-sent', 'syn-recv', 'fin-wait1', 'fin-wait2', 'time-wait', 'close', 'close-wait', 'last-ack', 'listen', 'closing', 'new-syn-recv'),
  fc.integer({ min: 14, max: 255 }).map((n) => `state-${n}`),
);
const u32 = intArb('u32') as fc.Arbitrary<number>;
const usersArb = fc.option(fc.array(fc.record({ name: fc.string({ maxLength: 15 }), pid: fc.integer({ min: 1, max: 2 ** 22 }), fd: fc.integer({ min: 0, max: 2 ** 20 }) }), { minLength: 1, maxLength: 3 }), { nil: undefined });

const inetArb = fc
  .record({
    family: fc.constantFrom('inet' as const, 'inet6' as const),
    state: stateArb,
    timer: fc.oneof(fc.constantFrom('off', 'on', 'keepalive', 'timewait', 'probe0', 'delack'), fc.integer({ min: 5, max: 255 }).map((n) => `timer-${n}`)),
    retrans: intArb('u8'),
    sport: intArb('u16'),
    dport: intArb('u16'),
    ifindex: u32,
    cookie: intArb('u64'),
    expires: u32,
    rqueue: u32,
    wqueue: u32,
    uid: u32,
    inode: u32,
  })
  .chain((h) =>
    fc.record({
      h: fc.constant(h),
      src: h.family === 'inet' ? ipv4TextArb : ipv6TextArb,
      dst: h.family === 'inet' ? ipv4TextArb : ipv6TextArb,
      attrs: attrSetValueArb(model, setNamed('InetDiagAttrs')),
      netid: fc.constantFrom('tcp', 'udp', 'raw', 'mptcp'),
      users: usersArb,
    }),
  )
  .map(({ h, src, dst, attrs, netid, users }) => ({ netid, users, socket: { ...h, src, dst, ...attrs } as unknown as InetSocket }));

const unixArb = fc
  .record({
    type: fc.constantFrom('stream', 'dgram', 'seqpacket', 'raw', 'type-9'),
    state: stateArb,
    inode: u32,
    cookie: intArb('u64'),
    path: fc.option(fc.string(), { nil: undefined }),
    attrs: attrSetValueArb(model, setNamed('UnixDiagAttrs')),
    users: usersArb,
  })
  .map(({ attrs, users, path, ...h }) => {
    const netid = ({ stream: 'u_str', dgram: 'u_dgr', seqpacket: 'u_seq' } as Record<string, string>)[h.type] ?? h.type;
    return { netid, users, socket: { family: 'unix', ...h, ...(path === undefined ? {} : { path }), ...attrs } as unknown as UnixSocket };
  });

describe('what cli/json.ts makes of any record validates', () => {
  it.each([
    ['INET', inetArb],
    ['UNIX', unixArb],
  ] as const)('%s sockets, with any attributes (unknown ones included)', (_, arb) => {
    fc.assert(
      fc.property(arb, ({ netid, users, socket }) => {
        const json = JSON.parse(socketJson(netid, socket, users)) as unknown;
        if (!validateSocket(json)) throw new Error(`${errorsText(validateSocket.errors)}\n${JSON.stringify(json).slice(0, 2000)}`);
        expect(validateDocument([json])).toBe(true);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('a struct tail from a newer kernel (extra) comes out as hex and validates', () => {
    const s = sample();
    (s.info as Record<string, unknown>).extra = Uint8Array.from([0xde, 0xad, 0xbe, 0xef]);
    const json = JSON.parse(socketJson('tcp', s as unknown as InetSocket)) as { info: { extra: string } };
    expect(json.info.extra).toBe('deadbeef');
    expect(validateSocket(json), errorsText(validateSocket.errors)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------
// The schema says no to what is not the output.

/** A TCP socket as the command prints it with -ie -p (the values of a real one). */
function sample(): Record<string, unknown> {
  return {
    family: 'inet', state: 'established', timer: 'off', retrans: 0, src: '127.0.0.1', dst: '127.0.0.1', sport: 41000, dport: 80,
    ifindex: 0, cookie: 28987n, expires: 0, rqueue: 0, wqueue: 0, uid: 0, inode: 183885, shutdown: 0, tos: 0, cgroupId: 1n,
    meminfo: { rmem: 0, wmem: 0, fmem: 0, tmem: 0 },
    info: { state: 1, caState: 0, retransmits: 0, probes: 0, backoff: 0, options: 7, sndWscale: 10, rcvWscale: 10, deliveryRateAppLimited: 1,
      fastopenClientFail: 0, rto: 204000, ato: 40000, sndMss: 32768, rcvMss: 536, unacked: 0, sacked: 0, lost: 0, retrans: 0, fackets: 0,
      lastDataSent: 10, lastAckSent: 0, lastDataRecv: 10, lastAckRecv: 10, pmtu: 65535, rcvSsthresh: 65483, rtt: 22, rttvar: 11,
      sndSsthresh: 2147483647, sndCwnd: 10, advmss: 65483, reordering: 3, rcvRtt: 0, rcvSpace: 65483, totalRetrans: 0,
      pacingRate: 0xffffffffffffffffn, maxPacingRate: 0xffffffffffffffffn },
    cong: 'bbr',
  };
}
const valid = (s: Record<string, unknown>, users?: { name: string; pid: number; fd: number }[]) => {
  const json = JSON.parse(socketJson('tcp', s as unknown as InetSocket, users as never)) as Record<string, unknown>;
  return json;
};

describe('the schema rejects what is not the output', () => {
  it('accepts the sample', () => {
    expect(validateSocket(valid(sample(), [{ name: 'x', pid: 1, fd: 3 }])), errorsText(validateSocket.errors)).toBe(true);
  });

  it.each<[string, (j: Record<string, any>) => void]>([
    ['a field no record has', (j) => (j.surprise = 1)],
    ['a field tcp_info does not have', (j) => (j.info.surprise = 1)],
    ['a cookie as a JSON number', (j) => (j.cookie = 28987)],
    ['a 64-bit counter as a JSON number', (j) => (j.info.pacingRate = 2 ** 64)],
    ['a cookie that is not decimal', (j) => (j.cookie = '0x713b')],
    ['no netid', (j) => delete j.netid],
    ['no cookie', (j) => delete j.cookie],
    ['a netid that is not an INET table', (j) => (j.netid = 'u_str')],
    ['an unknown state name', (j) => (j.state = 'LISTEN')],
    ['a port above 65535', (j) => (j.sport = 70000)],
    ['a negative queue', (j) => (j.rqueue = -1)],
    ['a fractional number', (j) => (j.info.rtt = 0.5)],
    ['null for an absent field', (j) => (j.tos = null)],
    ['bytes not as lowercase hex', (j) => (j.unknown = [{ type: 99, bytes: 'DEAD' }])],
    ['bytes as an odd number of digits', (j) => (j.unknown = [{ type: 99, bytes: 'abc' }])],
    ['a user entry with another field', (j) => (j.users = [{ name: 'x', pid: 1, fd: 3, uid: 0 }])],
    ['a user with pid 0', (j) => (j.users = [{ name: 'x', pid: 0, fd: 3 }])],
    ['skmeminfo that is not an array of integers', (j) => (j.skmeminfo = ['1'])],
  ])('rejects %s', (_, mutate) => {
    const j = valid(sample());
    mutate(j);
    expect(validateSocket(j)).toBe(false);
  });

  it('rejects a UNIX socket with an INET field, and a document that is not an array or summary', () => {
    const u = { netid: 'u_str', family: 'unix', type: 'stream', state: 'listen', inode: 5, cookie: '7', sport: 1 };
    expect(validateSocket(u)).toBe(false);
    delete (u as Partial<typeof u>).sport;
    expect(validateSocket(u), errorsText(validateSocket.errors)).toBe(true);
    expect(validateDocument({ sockets: [] })).toBe(false);
    expect(validateDocument({ total: 1, tables: { tcp: { bogus: 1 } } })).toBe(false);
    expect(validateDocument({ total: 1, tables: { tcp: { listen: 1 } } })).toBe(true);
  });
});
