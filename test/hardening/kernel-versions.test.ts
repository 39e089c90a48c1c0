/**
 * Kernel differences, built from the replies captured on a real kernel
 * (test/fixtures/kernel/tcp-established.json, unix-all-show.json) by cutting,
 * dropping, growing and adding attributes, then decoded with the query API's message
 * decoders (decodeInetSocket / decodeUnixSocket) as a dump would:
 *
 * - tcp_info at every size a kernel has sent (104 ... 280 bytes) and longer than the
 *   schema: what is there decodes, the rest is undefined, bytes past the schema are
 *   kept in `extra`; the same for every other struct attribute at every length from
 *   its min-size up, and skmeminfo with 8, 9, 10 or more counters;
 * - an older kernel that does not send an attribute: no error, the field is undefined,
 *   the others unchanged;
 * - a newer kernel with attributes the schema does not know: kept in `unknown` with
 *   their type and bytes, in order, wherever they sit;
 * - and the command formats all of these (text rows with -e -i -m -o, and JSON that
 *   validates against cli/output.schema.json) without throwing.
 */
import { describe, expect, it } from 'vitest';
import { parseCli } from '../../cli/args.js';
import { socketJson } from '../../cli/json.js';
import { inetRow, unixRow, type RowContext } from '../../cli/rows.js';
import { errorsText, validateSocket } from '../helpers/cli-schema.js';
import { loadSchema } from '../../generator/load.js';
import type { StructDef } from '../../generator/model.js';
import * as gen from '../../generated/index.js';
import { decodeInetSocket } from '../../query/inet.js';
import type { InetSocket, UnixSocket } from '../../query/types.js';
import { decodeUnixSocket } from '../../query/unix.js';
import { DecodeError } from '../../runtime/codec.js';
import { REPO } from '../fuzz/core.js';
import { bytesOf, fixturePayloads, join2, messageOf, split, type Split } from './lib/messages.js';

const schema = loadSchema(`${REPO}/schema`);
const inetAttrs = schema.sets.get('inet-diag-attrs')!;
const unixAttrs = schema.sets.get('unix-diag-attrs')!;
const INET_HEADER = gen.INET_DIAG_MSG_SIZE;
const UNIX_HEADER = gen.UNIX_DIAG_MSG_SIZE;
const tcp = split(fixturePayloads('tcp-established.json')[0]!, INET_HEADER);
const unixMessages = fixturePayloads('unix-all-show.json').map((p) => split(p, UNIX_HEADER));
const attrId = (name: string) => inetAttrs.attributes.find((a) => a.name === name)!.value;
const INFO = attrId('info');

const inet = (s: Split): InetSocket => decodeInetSocket(messageOf(join2(s)));
const unix = (s: Split): UnixSocket => decodeUnixSocket(messageOf(join2(s)));
const full = inet(tcp);

/** `s` with attribute `type` replaced by `payload` (added at the end when absent). */
function withAttr(s: Split, type: number, payload: Uint8Array): Split {
  const attrs = s.attrs.some((a) => a.type === type) ? s.attrs.map((a) => (a.type === type ? { type, payload } : a)) : [...s.attrs, { type, payload }];
  return { header: s.header, attrs };
}

/** The record without the fields an attribute of this set fills (and without `unknown`). */
function otherFields(rec: object, except: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(rec).filter(([k]) => !except.includes(k) && k !== 'unknown'));
}

/** Checks a struct decoded from `bytes` (cut to `len`): members inside `len` as in the full decode, the rest undefined, extra past the size. */
function expectPartial(s: StructDef, got: Record<string, unknown>, fullStruct: Record<string, unknown>, bytes: Uint8Array, len: number): void {
  for (const m of s.members) {
    if (m.type === 'pad') continue;
    const present = m.offset + m.size <= len;
    expect(got[m.tsName], `${s.name}.${m.name} with ${len} bytes`).toEqual(present ? fullStruct[m.tsName] : undefined);
  }
  if (len > s.size) expect(got.extra).toEqual(bytes.subarray(s.size, len));
  else expect(got.extra).toBeUndefined();
}

describe('tcp_info at every size a kernel has sent, and longer', () => {
  const info = tcp.attrs.find((a) => a.type === INFO)!.payload;
  const tcpInfo = schema.structs.get('tcp-info')!;
  // The captured one, grown past the schema with a recognizable tail.
  const grown = new Uint8Array(tcpInfo.size + 64);
  grown.set(info.subarray(0, Math.min(info.length, tcpInfo.size)));
  grown.set(bytesOf(64, 1), tcpInfo.size);
  const reference = gen.decodeTcpInfo(new DataView(grown.buffer), 0, tcpInfo.size) as unknown as Record<string, unknown>;

  it('the capture holds a full-size tcp_info from this kernel', () => {
    expect(info.length).toBeGreaterThanOrEqual(232);
    expect(tcpInfo.minSize).toBe(104);
  });

  it.each([104, 144, 160, 192, 232, 248, 280, 281, 288, 300, 344])('%i bytes: the members that fit, the rest undefined, the bytes past the schema in extra', (len) => {
    const bytes = grown.subarray(0, len);
    const s = inet(withAttr(tcp, INFO, bytes));
    expectPartial(tcpInfo, s.info as unknown as Record<string, unknown>, reference, grown, len);
    // The other attributes of the message are untouched.
    expect(otherFields(s, ['info'])).toEqual(otherFields(full, ['info']));
    expect(s.unknown).toBeUndefined();
  });

  it('every length from 104 to 344 bytes, not only the historical ones', () => {
    for (let len = tcpInfo.minSize; len <= grown.length; len++) {
      expectPartial(tcpInfo, inet(withAttr(tcp, INFO, grown.subarray(0, len))).info as unknown as Record<string, unknown>, reference, grown, len);
    }
  });

  it('shorter than the 104 bytes every kernel since 2.6 sends: a DecodeError naming struct tcp_info and its offset, not a crash', () => {
    for (const len of [0, 1, 8, 103]) {
      let error: unknown;
      try {
        inet(withAttr(tcp, INFO, grown.subarray(0, len)));
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(DecodeError);
      expect((error as DecodeError).what).toBe('struct tcp_info');
      expect((error as DecodeError).reason).toBe(`needs 104 bytes, got ${len}`);
    }
  });
});

describe('every struct attribute at every length from its min-size to 24 bytes past its size', () => {
  const structAttrs = [...inetAttrs.attributes.map((a) => ['inet', a] as const), ...unixAttrs.attributes.map((a) => ['unix', a] as const)].filter(([, a]) => a.struct);

  it('finds the struct attributes (meminfo, info, vegasinfo, dctcpinfo, bbrinfo, sockopt, ...)', () => {
    expect(structAttrs.map(([, a]) => a.name)).toEqual(expect.arrayContaining(['meminfo', 'info', 'vegasinfo', 'dctcpinfo', 'bbrinfo', 'sockopt']));
  });

  it.each(structAttrs.map(([set, a]) => [`${set} ${a.name} (${a.struct})`, set, a] as const))('%s', (_label, set, a) => {
    const s = schema.structs.get(a.struct!)!;
    const decode = (gen as Record<string, unknown>)[`decode${s.tsName}`] as (v: DataView, o: number, l: number, f?: number) => Record<string, unknown>;
    const bytes = bytesOf(s.size + 24, a.value);
    const reference = decode(new DataView(bytes.buffer), 0, s.size, 2);
    const base = set === 'inet' ? tcp : unixMessages[0]!;
    for (let len = s.minSize; len <= bytes.length; len++) {
      const rec = (set === 'inet' ? inet(withAttr(base, a.value, bytes.subarray(0, len))) : unix(withAttr(base, a.value, bytes.subarray(0, len)))) as unknown as Record<string, unknown>;
      expectPartial(s, rec[a.tsName] as Record<string, unknown>, reference, bytes, len);
    }
  });
});

describe('skmeminfo with as many counters as the kernel has', () => {
  const SKMEMINFO = attrId('skmeminfo');
  it.each([8, 9, 10, 12, 16])('%i counters (and a trailing partial one)', (count) => {
    const words = bytesOf(count * 4 + 3, count);
    for (const len of [count * 4, count * 4 + 3]) {
      const s = inet(withAttr(tcp, SKMEMINFO, words.subarray(0, len)));
      expect(s.skmeminfo).toHaveLength(count);
      const v = new DataView(words.buffer);
      expect(s.skmeminfo).toEqual(Array.from({ length: count }, (_, i) => v.getUint32(4 * i, true)));
      expect(otherFields(s, ['skmeminfo'])).toEqual(otherFields(full, ['skmeminfo']));
    }
  });
});

describe('an older kernel that does not send an attribute', () => {
  it.each(tcp.attrs.map((a) => [inetAttrs.attributes.find((x) => x.value === (a.type & 0x3fff))?.name ?? `type ${a.type}`, a.type] as const))(
    'INET without %s: no error, that field undefined, the others as before',
    (name, type) => {
      const s = inet({ header: tcp.header, attrs: tcp.attrs.filter((a) => a.type !== type) });
      const field = inetAttrs.attributes.find((x) => x.value === (type & 0x3fff))?.tsName;
      if (field) expect((s as unknown as Record<string, unknown>)[field], name).toBeUndefined();
      expect(otherFields(s, field ? [field] : [])).toEqual(otherFields(full, field ? [field] : []));
    },
  );

  it('INET with no attributes at all: the header fields only', () => {
    const s = inet({ header: tcp.header, attrs: [] });
    for (const a of inetAttrs.attributes) expect((s as unknown as Record<string, unknown>)[a.tsName], a.name).toBeUndefined();
    expect({ src: s.src, dst: s.dst, sport: s.sport, dport: s.dport, cookie: s.cookie, inode: s.inode }).toEqual({
      src: full.src,
      dst: full.dst,
      sport: full.sport,
      dport: full.dport,
      cookie: full.cookie,
      inode: full.inode,
    });
  });

  it('every UNIX message without each of its attributes, and without any', () => {
    for (const m of unixMessages) {
      const whole = unix(m);
      for (const drop of [...m.attrs.map((a) => [a.type]), m.attrs.map((a) => a.type)]) {
        const s = unix({ header: m.header, attrs: m.attrs.filter((a) => !drop.includes(a.type)) });
        const fields = drop.map((t) => unixAttrs.attributes.find((x) => x.value === (t & 0x3fff))?.tsName).filter((f): f is string => !!f);
        for (const f of fields) expect((s as unknown as Record<string, unknown>)[f]).toBeUndefined();
        // `path` is derived from `name`.
        const except = fields.includes('name') ? [...fields, 'path'] : fields;
        expect(otherFields(s, except)).toEqual(otherFields(whole, except));
      }
    }
  });
});

describe('a newer kernel with attributes the schema does not know', () => {
  const known = new Set(inetAttrs.attributes.map((a) => a.value));
  const unknownTypes = [23, 24, 31, 100, 0x3ffe, 0x3fff].filter((t) => !known.has(t));
  const payloads = [new Uint8Array(0), Uint8Array.of(1), bytesOf(7, 2), bytesOf(300, 3)];

  it.each(['front', 'middle', 'end'] as const)('kept in unknown, in order, with their bytes, when placed at the %s', (where) => {
    const extra = unknownTypes.flatMap((type, i) => [{ type, payload: payloads[i % payloads.length]! }]);
    // With the NLA_F_NESTED / NLA_F_NET_BYTEORDER flag bits too: the decoder keeps the type without them.
    extra.push({ type: 0x8000 | 40, payload: bytesOf(12, 4) }, { type: 0x4000 | 41, payload: bytesOf(4, 5) });
    const at = where === 'front' ? 0 : where === 'middle' ? Math.floor(tcp.attrs.length / 2) : tcp.attrs.length;
    const s = inet({ header: tcp.header, attrs: [...tcp.attrs.slice(0, at), ...extra, ...tcp.attrs.slice(at)] });
    expect(s.unknown).toEqual(extra.map((a) => ({ type: a.type & 0x3fff, bytes: a.payload })));
    expect(otherFields(s, [])).toEqual(otherFields(full, []));
  });

  it('a UNIX message with unknown attributes keeps them too', () => {
    const usedUnix = new Set(unixAttrs.attributes.map((a) => a.value));
    let t = 1;
    while (usedUnix.has(t)) t++;
    const m = unixMessages[0]!;
    const s = unix({ header: m.header, attrs: [...m.attrs, { type: t, payload: bytesOf(5, 6) }, { type: 0x3fff, payload: new Uint8Array(0) }] });
    expect(s.unknown).toEqual([
      { type: t, bytes: bytesOf(5, 6) },
      { type: 0x3fff, bytes: new Uint8Array(0) },
    ]);
    expect(otherFields(s, [])).toEqual(otherFields(unix(m), []));
  });
});

describe('the command formats records from older and newer kernels', () => {
  const ctx: RowContext = { options: parseCli(['-t', '-a', '-e', '-i', '-m', '-o', '-n']), ifname: String, cgroupPath: () => undefined };
  const tcpInfo = schema.structs.get('tcp-info')!;
  const info = tcp.attrs.find((a) => a.type === INFO)!.payload;
  const grown = new Uint8Array(tcpInfo.size + 40);
  grown.set(info.subarray(0, Math.min(info.length, tcpInfo.size)));
  grown.set(bytesOf(40, 9), tcpInfo.size);
  const known = new Set(inetAttrs.attributes.map((a) => a.value));
  const unknownType = [23, 24, 25, 30].find((t) => !known.has(t))!;

  const variants: [string, Split][] = [
    ...[104, 144, 160, 192, 232, 248, 280, 320].map((len) => [`tcp_info of ${len} bytes`, withAttr(tcp, INFO, grown.subarray(0, len))] as [string, Split]),
    ['no attributes', { header: tcp.header, attrs: [] }],
    ['an unknown attribute', { header: tcp.header, attrs: [...tcp.attrs, { type: unknownType, payload: bytesOf(9, 1) }] }],
    ['skmeminfo with 3 counters', withAttr(tcp, attrId('skmeminfo'), bytesOf(12, 2))],
    ['bbrinfo 8 bytes longer', withAttr(tcp, attrId('bbrinfo'), bytesOf(28, 3))],
  ];

  it.each(variants)('%s: a text row and a JSON record that validates', (_label, split) => {
    const s = inet(split);
    const row = inetRow('tcp', s, ctx);
    expect(JSON.stringify(row).length).toBeGreaterThan(10);
    const json = JSON.parse(socketJson('tcp', s)) as unknown;
    expect(validateSocket(json), errorsText(validateSocket.errors)).toBe(true);
  });

  it('every captured UNIX message, with each attribute dropped: a row and a valid JSON record', () => {
    const uctx: RowContext = { options: parseCli(['-x', '-a', '-e', '-m']), ifname: String, unixNames: new Map() };
    for (const m of unixMessages) {
      for (const drop of [-1, ...m.attrs.map((a) => a.type)]) {
        const s = unix({ header: m.header, attrs: m.attrs.filter((a) => a.type !== drop) });
        unixRow(s, uctx);
        const json = JSON.parse(socketJson('u_str', s)) as unknown;
        expect(validateSocket(json), errorsText(validateSocket.errors)).toBe(true);
      }
    }
  });
});
