/**
 * The decoder fuzz: what is fuzzed (every generated struct and attribute-set decoder,
 * found by walking the schema model; the netlink framing with `parseMessages` and
 * `Reply.step`; the full message decoders `decodeInetSocket` / `decodeUnixSocket`),
 * the fast-check arbitraries that make hostile inputs for each, and the oracle that
 * decides whether one case passed.
 *
 * A case passes when decoding gives a value, or throws a DecodeError whose offset lies
 * inside the input and whose reason is text (and, for the framing target only, a
 * NetlinkError: the bytes are an error reply). Besides that:
 * - the same bytes at an odd offset inside a bigger buffer of random garbage decode to
 *   the same value (or the same error, shifted): nothing reads outside its input and
 *   nothing depends on alignment;
 * - the decoded value is at most a few times bigger than the input (no allocation a
 *   length field could blow up);
 * - the case takes less than `slowMs` (checked again before it counts as slow).
 *
 * Shared by the on-demand run (test/fuzz/run.ts, `npm run fuzz`), the slice in
 * `npm test` (test/hardening/fuzz.test.ts) and the regression fixtures.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { loadSchema } from '../../generator/load.js';
import type { AttributeSet, Schema, StructDef } from '../../generator/model.js';
import { NlmAckFlags, NlmFlags, NlmGetFlags, NlmsgType } from '../../generated/netlink.js';
import { AddressFamily, IpProtocol } from '../../generated/socket.js';
import { FAMILIES, type FamilyName } from '../../query/families.js';
import { decodeInetSocket } from '../../query/inet.js';
import { InetSocketView } from '../../query/inet-view.js';
import { UnixSocketView } from '../../query/unix-view.js';
import { decodeUnixSocket } from '../../query/unix.js';
import { DecodeError } from '../../runtime/codec.js';
import { FOREVER } from '../../runtime/lease.js';
import { NetlinkError } from '../../runtime/errors.js';
import { parseMessages, Reply, type NetlinkMessage } from '../../runtime/netlink-socket.js';
import { families, intBytes, isIntType, structValueArb } from '../helpers/model-values.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** One fuzz case: `body` is the input; `pre`/`post` are the garbage around it in the embedded run. */
export interface FuzzCase {
  target: string;
  body: Uint8Array;
  pre: Uint8Array;
  post: Uint8Array;
  /** The address family passed to decoders that take one. */
  family: number;
  /**
   * Picks the variant arguments: framing, the flags of the request the reply answers
   * ({@link REQUEST_FLAGS}); INET messages, the IP protocol ({@link PROTOCOLS}); attribute
   * sets, the selector of attributes with variants.
   */
  aux: number;
}

export type Outcome = 'decoded' | 'DecodeError' | 'NetlinkError';

/** What one case did, or why it failed. */
export type Verdict = { ok: true; outcome: Outcome; ms: number } | { ok: false; reason: string; error?: unknown; ms: number };

type Run = (view: DataView, offset: number, length: number, c: FuzzCase) => unknown;

export interface Target {
  name: string;
  kind: 'struct' | 'set' | 'export' | 'framing' | 'reply' | 'query' | 'view';
  run: Run;
  /** DecodeError offsets count from the start of the input (framing: the datagram), not from the view. */
  inputRelative?: boolean;
  /** NetlinkError is an allowed outcome (framing: the bytes may be an error reply). */
  netlinkErrorAllowed?: boolean;
}

type Fn = (...a: unknown[]) => unknown;
type ViewClass = new (...a: unknown[]) => object;

/** How deep readView follows views within views (nested attribute sets); decode() has its own limit. */
const VIEW_DEPTH = 40;

/**
 * Reads a view whole, as a caller reading every field would: each getter (those of the
 * view classes it extends too), the views they return in turn, and decode(). Returns
 * what the getters gave.
 */
function readView(view: unknown, depth = 0): unknown {
  if (view === null || typeof view !== 'object' || typeof (view as { decode?: unknown }).decode !== 'function') return view;
  const out: Record<string, unknown> = {};
  if (depth > VIEW_DEPTH) return out;
  for (let p = Object.getPrototypeOf(view) as object | null; p && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    for (const [k, d] of Object.entries(Object.getOwnPropertyDescriptors(p))) {
      if (d.get && !(k in out)) out[k] = readView((view as Record<string, unknown>)[k], depth + 1);
    }
  }
  (view as { decode(): unknown }).decode();
  return out;
}
type Module = Record<string, unknown>;

// Reply parameters of the framing target.
const SEQ = 1;
const PORT = 77;
/** Request flags of the framing target, chosen by `aux`. */
export const REQUEST_FLAGS = [undefined, 0, NlmFlags.ack, NlmGetFlags.dump, NlmFlags.ack | NlmGetFlags.dump] as const;

/** IP protocols given to decodeInetSocket (INET_DIAG_INFO is tcp_info, mptcp_info or sctp_info by protocol). */
export const PROTOCOLS = [undefined, 6, 17, 262, 132, 255] as const;
const AUX_MAX = 59; // a multiple-of-everything range for `aux`

const BY_FAMILY = 20; // SOCK_DIAG_BY_FAMILY
const AF_UNIX = 1;
/** The fixed header and attribute set of each family of query/families.ts. */
const FAMILY_LAYOUT: Record<string, [header: string, attrs?: string]> = {
  netlink: ['netlink-diag-msg', 'netlink-diag-attrs'],
  packet: ['packet-diag-msg', 'packet-diag-attrs'],
  xdp: ['xdp-diag-msg', 'xdp-diag-attrs'],
  vsock: ['vsock-diag-msg'],
  smc: ['smc-diag-msg', 'smc-diag-attrs'],
  tipc: ['tipc-sock-diag-req'],
};
const familyByAf = new Map<number, FamilyName>(
  (Object.keys(FAMILIES) as FamilyName[]).flatMap((f) => {
    const af = (AddressFamily as Record<string, number>)[f];
    return af === undefined ? [] : [[af, f] as const];
  }),
);

/** Everything the fuzz needs, loaded once per process. */
export interface Fuzz {
  schema: Schema;
  targets: Map<string, Target>;
  /** Generated modules by name. */
  modules: Map<string, Module>;
  /** Exported decode* functions that no schema item accounts for (fuzzed with random bytes). */
  extraExports: string[];
  /** Schema items without a generated decoder (generated/ is stale). */
  missing: string[];
  arbitrary: fc.Arbitrary<FuzzCase>;
}

let loaded: Promise<Fuzz> | undefined;

/** Loads the schema and the generated modules and builds the targets (memoized). */
export function loadFuzz(): Promise<Fuzz> {
  return (loaded ??= build());
}

async function build(): Promise<Fuzz> {
  const schema = loadSchema(join(REPO, 'schema'));
  const modules = new Map<string, Module>();
  for (const f of schema.files) modules.set(f.module, (await import(pathToFileURL(join(REPO, 'generated', `${f.module}.ts`)).href)) as Module);
  const targets = new Map<string, Target>();
  const missing: string[] = [];
  const covered = new Set<string>();
  const structArbs = new Map<string, fc.Arbitrary<Uint8Array>>();
  const setArbs = new Map<string, (depth: number) => fc.Arbitrary<Uint8Array>>();
  const { inet, inet6 } = families(schema);

  // Structs.
  for (const f of schema.files) {
    const mod = modules.get(f.module)!;
    for (const d of f.definitions) {
      if (d.kind !== 'struct') continue;
      const decode = mod[`decode${d.tsName}`] as Fn | undefined;
      if (typeof decode !== 'function') {
        missing.push(`${f.module}: decode${d.tsName} (struct ${d.name})`);
        continue;
      }
      covered.add(`${f.module}.decode${d.tsName}`);
      const needsFamily = d.needsFamily;
      targets.set(`struct:${d.name}`, { name: `struct:${d.name}`, kind: 'struct', run: (v, o, l, c) => (needsFamily ? decode(v, o, l, c.family) : decode(v, o, l)) });
      const View = mod[`${d.tsName}View`] as ViewClass | undefined;
      if (typeof View !== 'function') missing.push(`${f.module}: ${d.tsName}View (struct ${d.name})`);
      else targets.set(`view:struct:${d.name}`, { name: `view:struct:${d.name}`, kind: 'view', run: (v, o, l, c) => readView(needsFamily ? new View(v, o, l, c.family) : new View(v, o, l)) });
    }
  }
  // Attribute sets.
  for (const f of schema.files) {
    const mod = modules.get(f.module)!;
    for (const set of f.attributeSets) {
      const decode = mod[`decode${set.tsName}`] as Fn | undefined;
      if (typeof decode !== 'function') {
        missing.push(`${f.module}: decode${set.tsName} (attribute set ${set.name})`);
        continue;
      }
      covered.add(`${f.module}.decode${set.tsName}`);
      // Sets with attribute variants take a selector (the protocol for inet-diag-attrs): try each value, none, and a stray one.
      const selectors = [undefined, ...new Set(set.attributes.flatMap((a) => a.variants?.list.map((x) => x.value) ?? [])), 0xfff];
      const sel = (c: FuzzCase) => (selectors.length > 2 ? selectors[c.aux % selectors.length] : undefined);
      targets.set(`set:${set.name}`, { name: `set:${set.name}`, kind: 'set', run: (v, o, l, c) => decode(v, o, l, undefined, sel(c)) });
      const View = mod[`${set.tsName}View`] as ViewClass | undefined;
      if (typeof View !== 'function') missing.push(`${f.module}: ${set.tsName}View (attribute set ${set.name})`);
      else targets.set(`view:set:${set.name}`, { name: `view:set:${set.name}`, kind: 'view', run: (v, o, l, c) => readView(new View(v, o, l, FOREVER, sel(c))) });
    }
  }
  // Any other exported decoder: random bytes, with a family argument in case it takes one.
  const extraExports: string[] = [];
  for (const [module, mod] of modules) {
    for (const [name, fn] of Object.entries(mod)) {
      if (!/^decode[A-Z]/.test(name) || typeof fn !== 'function' || covered.has(`${module}.${name}`)) continue;
      extraExports.push(`${module}.${name}`);
      targets.set(`export:${module}.${name}`, { name: `export:${module}.${name}`, kind: 'export', run: (v, o, l, c) => (fn as Fn)(v, o, l, c.family) });
    }
  }
  // The framing layer and the message decoders of the query API.
  targets.set('framing', { name: 'framing', kind: 'framing', run: runFraming, inputRelative: true, netlinkErrorAllowed: true });
  targets.set('reply', { name: 'reply', kind: 'reply', run: runReply, inputRelative: true, netlinkErrorAllowed: true });
  targets.set('query:inet', { name: 'query:inet', kind: 'query', run: (v, o, l, c) => decodeInetSocket(message(v, o, l), PROTOCOLS[c.aux % PROTOCOLS.length]) });
  targets.set('view:inet', { name: 'view:inet', kind: 'view', run: (v, o, l, c) => readView(new InetSocketView(message(v, o, l), PROTOCOLS[c.aux % PROTOCOLS.length] ?? IpProtocol.tcp, FOREVER)) });
  targets.set('view:unix', { name: 'view:unix', kind: 'view', run: (v, o, l) => readView(new UnixSocketView(message(v, o, l), FOREVER)) });
  targets.set('query:unix', { name: 'query:unix', kind: 'query', run: (v, o, l) => decodeUnixSocket(message(v, o, l)) });
  for (const family of Object.keys(FAMILIES) as FamilyName[]) {
    targets.set(`query:${family}`, { name: `query:${family}`, kind: 'query', run: (v, o, l) => FAMILIES[family].decode(message(v, o, l)) });
  }

  // Arbitraries.
  const structBytes = (s: StructDef): fc.Arbitrary<Uint8Array> => {
    let arb = structArbs.get(s.name);
    if (arb) return arb;
    const owner = schema.owner.get(s.name);
    const encode = owner ? (modules.get(owner.module)?.[`encode${s.tsName}`] as Fn | undefined) : undefined;
    const sizes = [...new Set([0, 1, s.minSize - 1, s.minSize, s.minSize + 1, s.size - 1, s.size, s.size + 1, s.size + 8])].filter((n) => n >= 0);
    const parts: fc.Arbitrary<Uint8Array>[] = [
      fc.uint8Array({ maxLength: s.size + 32, size: 'max' }),
      fc.constantFrom(...sizes).chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
    ];
    if (encode) {
      const valid = fc
        .constantFrom(inet, inet6)
        .chain((fam) => structValueArb(schema, s, fam).map((v) => (s.needsFamily ? encode(v, fam) : encode(v)) as Uint8Array));
      // A valid encoding cut anywhere, or followed by a tail (a newer kernel's longer struct).
      parts.push(
        fc
          .tuple(valid, fc.integer({ min: 0, max: s.size + 16 }), fc.uint8Array({ maxLength: 24, size: 'max' }))
          .map(([b, cut, tail]) => (cut <= b.length ? b.subarray(0, cut) : concat(b, tail))),
      );
    }
    arb = fc.oneof(...parts);
    structArbs.set(s.name, arb);
    return arb;
  };
  const setBytes = (set: AttributeSet, depth: number): fc.Arbitrary<Uint8Array> => {
    let make = setArbs.get(set.name);
    if (!make) {
      make = (d: number) => attributeStream(schema, set, d, structBytes, setBytes);
      setArbs.set(set.name, make);
    }
    return make(depth);
  };

  const caseOf = (target: string, body: fc.Arbitrary<Uint8Array>): fc.Arbitrary<FuzzCase> =>
    fc.record({
      target: fc.constant(target),
      body,
      pre: fc.uint8Array({ maxLength: 11, size: 'max' }),
      post: fc.uint8Array({ maxLength: 11, size: 'max' }),
      family: fc.oneof(fc.constantFrom(inet, inet6), fc.integer({ min: 0, max: 255 })),
      aux: fc.integer({ min: 0, max: AUX_MAX }),
    });

  const structTargets = [...targets.values()].filter((t) => t.kind === 'struct').map((t) => schema.structs.get(t.name.slice('struct:'.length))!);
  const setTargets = [...targets.values()].filter((t) => t.kind === 'set').map((t) => schema.sets.get(t.name.slice('set:'.length))!);
  const exportTargets = [...targets.values()].filter((t) => t.kind === 'export').map((t) => t.name);

  const inetMsg = schema.structs.get('inet-diag-msg');
  const unixMsg = schema.structs.get('unix-diag-msg');
  const inetAttrs = schema.sets.get('inet-diag-attrs');
  const unixAttrs = schema.sets.get('unix-diag-attrs');
  const errAttrs = schema.sets.get('nlmsgerr-attrs');
  const stream = (set: AttributeSet | undefined, depth = 3) => (set ? setBytes(set, depth) : fc.uint8Array({ maxLength: 64, size: 'max' }));
  const header = (s: StructDef | undefined, familyByte: number[]) =>
    s ? structBytes(s).chain((b) => fc.constantFrom(...familyByte).map((fam) => withFirstByte(b, fam))) : fc.uint8Array({ maxLength: 80, size: 'max' });

  /** A SOCK_DIAG_BY_FAMILY payload: an INET or UNIX header then attributes, or a captured one mutated. */
  const inetBody = fc.tuple(header(inetMsg, [2, 10, 2, 10, 0, 255]), stream(inetAttrs)).map(([h, a]) => concat(h, pad4(h.length), a));
  const unixBody = fc.tuple(header(unixMsg, [AF_UNIX]), stream(unixAttrs)).map(([h, a]) => concat(h, pad4(h.length), a));
  const captured = capturedPayloads();
  const mutatedInet = mutate(fc.constantFrom(...captured.inet), stream(inetAttrs));
  const mutatedUnix = mutate(fc.constantFrom(...captured.unix), stream(unixAttrs));
  const familyNames = Object.keys(FAMILIES) as FamilyName[];
  /** A reply of one of the other families: its header (family byte set) then its attributes. */
  const familyBody = (f: FamilyName): fc.Arbitrary<Uint8Array> => {
    const [h, a] = FAMILY_LAYOUT[f] ?? [];
    const af = (AddressFamily as Record<string, number>)[f] ?? 0;
    return fc.tuple(header(h ? schema.structs.get(h) : undefined, [af]), stream(a ? schema.sets.get(a) : undefined)).map(([hb, ab]) => concat(hb, pad4(hb.length), ab));
  };
  const diagBody = fc.oneof(inetBody, unixBody, mutatedInet, mutatedUnix, fc.constantFrom(...familyNames).chain(familyBody));

  const int32 = fc.oneof(fc.constant(0), fc.integer({ min: -140, max: -1 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }));
  const hugeU32 = fc.oneof(
    fc.constantFrom(0, 15, 16, 17, 20, 36, 0x7fffffff, 0x80000000, 0x80000010, 0xfffffff0, 0xffffffff),
    fc.integer({ min: 0, max: 0xffffffff }),
  );
  const errorBody = fc
    .tuple(int32, hugeU32, fc.uint8Array({ minLength: 12, maxLength: 12 }), fc.uint8Array({ maxLength: 24, size: 'max' }), stream(errAttrs, 1), fc.option(fc.nat(200)))
    .map(([error, len, rest, echo, tlvs, cut]) => {
      const b = new Uint8Array(20);
      const v = new DataView(b.buffer);
      v.setInt32(0, error, true);
      v.setUint32(4, len, true);
      b.set(rest, 8);
      const all = concat(b, echo, pad4(echo.length), tlvs);
      return cut === null ? all : all.subarray(0, cut);
    });
  const doneBody = fc.tuple(int32, stream(errAttrs, 1), fc.option(fc.nat(40))).map(([code, tlvs, cut]) => {
    const all = concat(int32Bytes(code), tlvs);
    return cut === null ? all : all.subarray(0, cut);
  });
  const flagArb = fc.oneof(
    fc.constantFrom(
      0,
      NlmFlags.multi,
      NlmFlags.multi | NlmFlags['dump-intr'],
      NlmAckFlags['ack-tlvs'],
      NlmAckFlags.capped,
      NlmAckFlags.capped | NlmAckFlags['ack-tlvs'],
      NlmFlags.multi | NlmAckFlags['ack-tlvs'],
    ),
    fc.integer({ min: 0, max: 0xffff }),
  );
  const netlinkMessage = fc
    .oneof(
      { weight: 4, arbitrary: fc.tuple(fc.constant(BY_FAMILY), diagBody) },
      { weight: 2, arbitrary: fc.tuple(fc.constant(NlmsgType.error as number), errorBody) },
      { weight: 2, arbitrary: fc.tuple(fc.constant(NlmsgType.done as number), doneBody) },
      { weight: 1, arbitrary: fc.tuple(fc.constantFrom<number>(NlmsgType.noop, NlmsgType.overrun), fc.uint8Array({ maxLength: 16, size: 'max' })) },
      { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: 64, size: 'max' })) },
    )
    .chain(([type, payload]) =>
      fc.record({
        type: fc.constant(type),
        payload: fc.constant(payload),
        flags: flagArb,
        seq: fc.oneof({ weight: 5, arbitrary: fc.constant(SEQ) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffffffff }) }),
        pid: fc.oneof({ weight: 5, arbitrary: fc.constant(PORT) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffffffff }) }),
        len: lengthMode(),
        padded: fc.oneof({ weight: 6, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      }),
    )
    .map((m) => {
      const b = new Uint8Array(16);
      const v = new DataView(b.buffer);
      v.setUint32(0, applyLength(m.len, 16 + m.payload.length, 0xffffffff), true);
      v.setUint16(4, m.type, true);
      v.setUint16(6, m.flags, true);
      v.setUint32(8, m.seq, true);
      v.setUint32(12, m.pid, true);
      return concat(b, m.payload, m.padded ? pad4(m.payload.length) : new Uint8Array(0));
    });
  const datagram = fc
    .tuple(fc.array(netlinkMessage, { minLength: 0, maxLength: 4 }), fc.option(fc.uint8Array({ minLength: 1, maxLength: 19, size: 'max' }), { freq: 6 }))
    .map(([ms, tail]) => concat(...ms, tail ?? new Uint8Array(0)));

  const kinds: { weight: number; arbitrary: fc.Arbitrary<FuzzCase> }[] = [];
  // The views read the same bytes as the decoders: the same inputs, read through every getter.
  const viewOf = (arb: fc.Arbitrary<FuzzCase>) => arb.map((c) => ({ ...c, target: `view:${c.target}` }));
  if (structTargets.length) kinds.push({ weight: 1, arbitrary: viewOf(fc.constantFrom(...structTargets).chain((s) => caseOf(`struct:${s.name}`, structBytes(s)))) });
  if (setTargets.length) kinds.push({ weight: 2, arbitrary: viewOf(fc.constantFrom(...setTargets).chain((set) => caseOf(`set:${set.name}`, fc.oneof(setBytes(set, 3), fc.uint8Array({ maxLength: 96, size: 'max' }))))) });
  kinds.push({ weight: 1, arbitrary: caseOf('view:inet', fc.oneof(inetBody, mutatedInet, fc.uint8Array({ maxLength: 100, size: 'max' }))) });
  kinds.push({ weight: 1, arbitrary: caseOf('view:unix', fc.oneof(unixBody, mutatedUnix, fc.uint8Array({ maxLength: 40, size: 'max' }))) });
  if (structTargets.length) kinds.push({ weight: 3, arbitrary: fc.constantFrom(...structTargets).chain((s) => caseOf(`struct:${s.name}`, structBytes(s))) });
  if (setTargets.length) kinds.push({ weight: 4, arbitrary: fc.constantFrom(...setTargets).chain((set) => caseOf(`set:${set.name}`, fc.oneof(setBytes(set, 3), fc.uint8Array({ maxLength: 96, size: 'max' })))) });
  if (exportTargets.length) kinds.push({ weight: 1, arbitrary: fc.constantFrom(...exportTargets).chain((t) => caseOf(t, fc.uint8Array({ maxLength: 128, size: 'max' }))) });
  kinds.push({ weight: 4, arbitrary: caseOf('framing', fc.oneof({ weight: 6, arbitrary: datagram }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 128, size: 'max' }) })) });
  kinds.push({ weight: 3, arbitrary: caseOf('reply', netlinkMessage) });
  kinds.push({ weight: 2, arbitrary: caseOf('query:inet', fc.oneof(inetBody, mutatedInet, fc.uint8Array({ maxLength: 100, size: 'max' }))) });
  kinds.push({ weight: 2, arbitrary: caseOf('query:unix', fc.oneof(unixBody, mutatedUnix, fc.uint8Array({ maxLength: 40, size: 'max' }))) });
  kinds.push({ weight: 2, arbitrary: fc.constantFrom(...familyNames).chain((f) => caseOf(`query:${f}`, fc.oneof(familyBody(f), fc.uint8Array({ maxLength: 96, size: 'max' })))) });

  return { schema, targets, modules, extraExports, missing, arbitrary: fc.oneof(...kinds) };
}

// ---------------------------------------------------------------------------------
// Running one case

/** Runs the framing target: frames the datagram, classifies each message as the receive loop does, decodes the data. */
function runFraming(view: DataView, offset: number, length: number, c: FuzzCase): unknown {
  // The datagram starts at `offset` (as the receive buffer does at 0): a view that begins there.
  const dv = new DataView(view.buffer, view.byteOffset + offset, view.byteLength - offset);
  const reply = new Reply(SEQ, PORT, REQUEST_FLAGS[c.aux % REQUEST_FLAGS.length], 'fuzz request');
  const out: unknown[] = [];
  for (const m of parseMessages(dv, length)) {
    stepAndDecode(reply, m, c, out);
    if (reply.ended) break;
  }
  out.push(reply.interrupted);
  return out;
}

/**
 * Runs the reply target: one message whose header is taken as it is but for nlmsg_len
 * (its payload is the rest of the input), through Reply.step and the decoders. The
 * framing target rarely gets a hostile payload that far, since one bad header in a
 * datagram stops the framing of all of it.
 */
function runReply(view: DataView, offset: number, length: number, c: FuzzCase): unknown {
  if (length < 16) return null;
  const dv = new DataView(view.buffer, view.byteOffset + offset, length);
  const m: NetlinkMessage = { type: dv.getUint16(4, true), flags: dv.getUint16(6, true), seq: dv.getUint32(8, true), pid: dv.getUint32(12, true), view: dv, offset: 16, length: length - 16 };
  const reply = new Reply(SEQ, PORT, REQUEST_FLAGS[c.aux % REQUEST_FLAGS.length], 'fuzz request');
  const out: unknown[] = [];
  stepAndDecode(reply, m, c, out);
  out.push(reply.interrupted, reply.ended);
  return out;
}

/** Reply.step on `m`, then the family's decoder when it is data, as a caller that knows what it asked for would. */
function stepAndDecode(reply: Reply, m: NetlinkMessage, c: FuzzCase, out: unknown[]): void {
  const step = reply.step(m);
  out.push([m.type, m.flags, m.offset, m.length, step]);
  if ((step === 'data' || step === 'last') && m.type === BY_FAMILY) {
    // Dispatch on the family byte.
    const af = m.length > 0 ? m.view.getUint8(m.offset) : 0;
    const other = familyByAf.get(af);
    out.push(af === AF_UNIX ? decodeUnixSocket(m) : other ? FAMILIES[other].decode(m) : decodeInetSocket(m, PROTOCOLS[c.aux % PROTOCOLS.length]));
  }
}

function message(view: DataView, offset: number, length: number): NetlinkMessage {
  return { type: BY_FAMILY, flags: NlmFlags.multi, seq: SEQ, pid: PORT, view, offset, length };
}

type Attempt = { value: unknown } | { error: unknown };

function attempt(t: Target, view: DataView, offset: number, length: number, c: FuzzCase): Attempt {
  try {
    return { value: t.run(view, offset, length, c) };
  } catch (error) {
    return { error };
  }
}

const describe = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message.split('\n')[0]}` : `non-Error thrown: ${String(e)}`);

/** The outcome of one attempt, or why it is not allowed. */
function judge(t: Target, a: Attempt, base: number, length: number): { outcome: Outcome } | { reason: string; error?: unknown } {
  if ('value' in a) return { outcome: 'decoded' };
  const e = a.error;
  if (e instanceof DecodeError) {
    const at = e.offset - base;
    if (!Number.isSafeInteger(e.offset) || at < 0 || at > length) return { reason: `DecodeError offset ${e.offset} outside the input [${base}, ${base + length}]: ${e.message}`, error: e };
    if (typeof e.reason !== 'string' || e.reason === '' || typeof e.what !== 'string') return { reason: `DecodeError without a reason: ${e.message}`, error: e };
    return { outcome: 'DecodeError' };
  }
  if (e instanceof NetlinkError && t.netlinkErrorAllowed) {
    if (!Number.isInteger(e.errno) || typeof e.code !== 'string') return { reason: `NetlinkError without errno/code: ${e.message}`, error: e };
    return { outcome: 'NetlinkError' };
  }
  return { reason: `threw ${describe(e)}`, error: e };
}

/** Counts the units of a decoded value (keys, elements, bytes, characters), stopping past `limit`. */
export function sizeOf(value: unknown, limit: number): number {
  let n = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && n <= limit) {
    const v = stack.pop();
    n++;
    if (v === null || typeof v !== 'object') {
      if (typeof v === 'string') n += v.length;
      continue;
    }
    if (ArrayBuffer.isView(v)) {
      n += v.byteLength;
      continue;
    }
    for (const x of Object.values(v)) stack.push(x);
  }
  return n;
}

/** The largest decoded value allowed for an input of `length` bytes. */
export const sizeLimit = (length: number): number => 6 * length + 4096;

export interface JudgeOptions {
  /** A case slower than this (twice) fails. */
  slowMs: number;
}

/** Runs one case twice (exactly sized input, and embedded at an odd offset in garbage) and judges it. */
export function runCase(fz: Fuzz, c: FuzzCase, opts: JudgeOptions = { slowMs: 250 }): Verdict {
  const t = fz.targets.get(c.target);
  if (!t) return { ok: false, reason: `no target ${c.target}`, ms: 0 };
  const t0 = performance.now();
  const verdict = judgeCase(t, c);
  let ms = performance.now() - t0;
  if (verdict.ok && ms > opts.slowMs) {
    // Once more before calling it slow: a GC pause or a busy machine can stretch one run.
    const t1 = performance.now();
    judgeCase(t, c);
    ms = Math.min(ms, performance.now() - t1);
    if (ms > opts.slowMs) return { ok: false, reason: `took ${ms.toFixed(0)} ms (bound ${opts.slowMs} ms) for ${c.body.length} bytes`, ms };
  }
  return { ...verdict, ms };
}

function judgeCase(t: Target, c: FuzzCase): Verdict {
  const len = c.body.length;
  // 1. Exactly the input: a read past its end is a RangeError.
  const exact = attempt(t, new DataView(c.body.slice().buffer), 0, len, c);
  const j1 = judge(t, exact, 0, len);
  if ('reason' in j1) return { ok: false, reason: `exact input: ${j1.reason}`, error: j1.error, ms: 0 };
  // 2. The same bytes at an odd offset (1 + pre) of a view that itself starts at byte 1 of a garbage buffer.
  const buf = concat(Uint8Array.of(0x5a), Uint8Array.of(0xa5), c.pre, c.body, c.post);
  const view = new DataView(buf.buffer, 1);
  const offset = 1 + c.pre.length;
  const embedded = attempt(t, view, offset, len, c);
  const base = t.inputRelative ? 0 : offset;
  const j2 = judge(t, embedded, base, len);
  if ('reason' in j2) return { ok: false, reason: `embedded input: ${j2.reason}`, error: j2.error, ms: 0 };
  if (j1.outcome !== j2.outcome) return { ok: false, reason: `exact input ${j1.outcome}, embedded input ${j2.outcome}`, ms: 0 };
  if ('value' in exact && 'value' in embedded) {
    if (!isDeepStrictEqual(exact.value, embedded.value)) return { ok: false, reason: 'the value depends on where the input sits in the buffer (reads outside it?)', ms: 0 };
    const size = sizeOf(exact.value, sizeLimit(len));
    if (size > sizeLimit(len)) return { ok: false, reason: `decoded value of ${size}+ units from ${len} bytes (limit ${sizeLimit(len)})`, ms: 0 };
  } else if ('error' in exact && 'error' in embedded) {
    const a = exact.error as Error & { offset?: number; reason?: string };
    const b = embedded.error as Error & { offset?: number; reason?: string };
    const shift = t.inputRelative ? 0 : offset;
    if (a.name !== b.name || a.reason !== b.reason || (a.offset !== undefined && b.offset !== a.offset + shift)) {
      return { ok: false, reason: `errors differ: exact ${describe(a)}, embedded ${describe(b)}`, ms: 0 };
    }
  }
  return { ok: true, outcome: j1.outcome, ms: 0 };
}

// ---------------------------------------------------------------------------------
// Byte helpers and arbitraries

export const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
};

const pad4 = (n: number) => new Uint8Array((4 - (n % 4)) % 4);

function int32Bytes(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v, true);
  return b;
}

function withFirstByte(b: Uint8Array, first: number): Uint8Array {
  if (b.length === 0) return b;
  const c = b.slice();
  c[0] = first;
  return c;
}

type LengthMode = { kind: 'ok' } | { kind: 'set'; value: number } | { kind: 'delta'; value: number };

/** How a length field is written: right (mostly), or off by a little, or any value. */
function lengthMode(): fc.Arbitrary<LengthMode> {
  return fc.oneof(
    { weight: 12, arbitrary: fc.constant<LengthMode>({ kind: 'ok' }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 5 }).map<LengthMode>((value) => ({ kind: 'set', value })) },
    { weight: 1, arbitrary: fc.integer({ min: -8, max: 8 }).map<LengthMode>((value) => ({ kind: 'delta', value })) },
    { weight: 1, arbitrary: fc.constantFrom<LengthMode>({ kind: 'set', value: 0xffff }, { kind: 'set', value: 0xffffffff }, { kind: 'set', value: 0x80000000 }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffffffff }).map<LengthMode>((value) => ({ kind: 'set', value })) },
  );
}

function applyLength(mode: LengthMode, right: number, max: number): number {
  const v = mode.kind === 'ok' ? right : mode.kind === 'delta' ? right + mode.value : mode.value;
  return Math.min(Math.max(v, 0), max) % (max + 1);
}

/**
 * Netlink attributes of `set`: known types (with payloads of their kind: nests recurse
 * to `depth`, structs get struct-shaped bytes, integers bytes around their size) and
 * unknown ones, with length fields sometimes wrong and padding sometimes missing.
 */
function attributeStream(
  schema: Schema,
  set: AttributeSet,
  depth: number,
  structBytes: (s: StructDef) => fc.Arbitrary<Uint8Array>,
  setBytes: (set: AttributeSet, depth: number) => fc.Arbitrary<Uint8Array>,
): fc.Arbitrary<Uint8Array> {
  const known = set.attributes.filter((a) => a.type !== 'unused');
  const payloadOf = (a: (typeof known)[number]): fc.Arbitrary<Uint8Array> => {
    if (a.type === 'nest' && a.nested && depth > 0) {
      const nested = schema.sets.get(a.nested);
      if (nested) return setBytes(nested, depth - 1);
    }
    if (a.struct) {
      // The attribute's struct, or one of its variants (chosen by the decoder's selector).
      const structs = [a.struct, ...(a.variants?.list.map((v) => v.struct) ?? [])].map((n) => schema.structs.get(n)).filter((x): x is StructDef => !!x);
      if (structs.length) return fc.constantFrom(...structs).chain(structBytes);
    }
    if (isIntType(a.type)) {
      const n = intBytes[a.type];
      return fc.oneof({ weight: 5, arbitrary: fc.uint8Array({ minLength: n, maxLength: n }) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: n + 4, size: 'max' }) });
    }
    if (a.type === 'flag') return fc.uint8Array({ maxLength: 2, size: 'max' });
    if (a.type === 'string') return fc.array(fc.constantFrom(0, 0x41, 0x7a, 0x1b, 0xc3, 0xa9, 0xff), { maxLength: 24, size: 'max' }).map((x) => Uint8Array.from(x));
    return fc.uint8Array({ maxLength: 48, size: 'max' });
  };
  const knownAttr = known.length ? fc.constantFrom(...known).chain((a) => fc.tuple(fc.constant(a.value), payloadOf(a))) : undefined;
  const unknownAttr = fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: 32, size: 'max' }));
  const attr = fc
    .tuple(
      knownAttr ? fc.oneof({ weight: 4, arbitrary: knownAttr }, { weight: 1, arbitrary: unknownAttr }) : unknownAttr,
      fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(0x8000, 0x4000, 0xc000) }),
      lengthMode(),
      fc.oneof({ weight: 8, arbitrary: fc.constant(-1) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 4 }) }),
    )
    .map(([[type, payload], typeFlags, len, padding]) => {
      const h = new Uint8Array(4);
      const v = new DataView(h.buffer);
      v.setUint16(0, applyLength(len, 4 + payload.length, 0xffff), true);
      v.setUint16(2, (type | typeFlags) & 0xffff, true);
      // -1: the right padding; 0..4: that many bytes of it (0 = none, 4 = more than needed).
      const pad = padding < 0 ? pad4(payload.length) : new Uint8Array(padding).fill(0xee);
      return concat(h, payload, pad);
    });
  return fc
    .tuple(fc.array(attr, { maxLength: 6 }), fc.oneof({ weight: 6, arbitrary: fc.constant(new Uint8Array(0)) }, { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 3, size: 'max' }) }))
    .map(([attrs, tail]) => concat(...attrs, tail));
}

/** Replies captured from a real kernel (test/fixtures/kernel), as payload bytes. */
export function capturedPayloads(): { inet: Uint8Array[]; unix: Uint8Array[] } {
  const load = (name: string) =>
    (JSON.parse(readFileSync(join(REPO, 'test/fixtures/kernel', name), 'utf8')) as { messages: { type: number; payload: string }[] }).messages
      .filter((m) => m.type === BY_FAMILY)
      .map((m) => Uint8Array.from(Buffer.from(m.payload, 'hex')));
  return { inet: load('tcp-established.json'), unix: load('unix-all-show.json') };
}

type Mutation =
  | { kind: 'cut'; at: number }
  | { kind: 'flip'; edits: [number, number][] }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'attr-len'; index: number; len: number }
  | { kind: 'append'; bytes: Uint8Array };

/** A captured payload with one to three mutations: cut, byte flips, inserted attributes, a wrong attribute length, a tail. */
function mutate(base: fc.Arbitrary<Uint8Array>, attrs: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    fc.nat(600).map<Mutation>((at) => ({ kind: 'cut', at })),
    fc.array(fc.tuple(fc.nat(600), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }).map<Mutation>((edits) => ({ kind: 'flip', edits })),
    fc.tuple(fc.nat(600), attrs).map<Mutation>(([at, bytes]) => ({ kind: 'insert', at, bytes })),
    fc.tuple(fc.nat(12), fc.integer({ min: 0, max: 0xffff })).map<Mutation>(([index, len]) => ({ kind: 'attr-len', index, len })),
    attrs.map<Mutation>((bytes) => ({ kind: 'append', bytes })),
  );
  return fc.tuple(base, fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([b, ms]) => ms.reduce(applyMutation, b.slice()));
}

function applyMutation(b: Uint8Array, m: Mutation): Uint8Array {
  switch (m.kind) {
    case 'cut':
      return b.subarray(0, m.at % (b.length + 1));
    case 'flip': {
      const c = b.slice();
      for (const [at, v] of m.edits) if (c.length) c[at % c.length] = v;
      return c;
    }
    case 'insert': {
      // At a 4-byte boundary after the fixed header, where attributes sit.
      const at = Math.min(b.length, 16 + ((m.at * 4) % Math.max(4, b.length)));
      return concat(b.subarray(0, at), m.bytes, b.subarray(at));
    }
    case 'attr-len': {
      // The index-th attribute header after the 72-byte inet (or 16-byte unix) header.
      const c = b.slice();
      const v = new DataView(c.buffer);
      let o = c[0] === AF_UNIX ? 16 : 72;
      for (let i = 0; o + 4 <= c.length; i++) {
        const len = v.getUint16(o, true);
        if (i === m.index % 12) {
          v.setUint16(o, m.len, true);
          break;
        }
        if (len < 4) break;
        o += (len + 3) & ~3;
      }
      return c;
    }
    case 'append':
      return concat(b, m.bytes);
  }
}

// ---------------------------------------------------------------------------------
// Cases as JSON (regression fixtures)

export interface CaseJson {
  target: string;
  body: string;
  pre?: string;
  post?: string;
  family?: number;
  aux?: number;
}

export const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const unhex = (s: string | undefined): Uint8Array => Uint8Array.from(Buffer.from(s ?? '', 'hex'));

export function caseToJson(c: FuzzCase): CaseJson {
  return { target: c.target, body: hex(c.body), pre: hex(c.pre), post: hex(c.post), family: c.family, aux: c.aux };
}

export function caseFromJson(j: CaseJson): FuzzCase {
  return { target: j.target, body: unhex(j.body), pre: unhex(j.pre), post: unhex(j.post), family: j.family ?? 2, aux: j.aux ?? 0 };
}
