/**
 * Evidence for the families the test machine's kernel may not have (netlink, packet,
 * XDP, VSOCK, SMC, TIPC, MPTCP, SCTP, kTLS): byte fixtures made by gcc from the
 * installed uapi headers, decoded by the generated decoders in generated/.
 *
 * - Structs: a C program fills every member of each struct with its own value, by
 *   member name through the real header, and prints the bytes; the decoder must read
 *   each value back. A wrong offset, width, byte order or signedness in the schema
 *   shows up as a wrong value; a wrong C name does not compile.
 * - Attributes: a C program lays out reply attributes with the header's own enum and
 *   macro values (TLS_INFO_*, MPTCP_SUBFLOW_ATTR_*, PACKET_DIAG_*, ...); the decoder
 *   must find each one under the right name and type.
 * - Members newer than the installed headers (mptcp_info after 6.1, the SMC-D extended
 *   GIDs): built in TypeScript at the offsets the newer kernel headers give.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadSchema } from '../../generator/load.js';
import type { IntType, StructDef } from '../../generator/model.js';
import { gccMissing, runC } from '../helpers/c-layout.js';
import { SCHEMA_DIR } from '../helpers/generation.js';
import * as inetDiag from '../../generated/inet_diag.js';
import * as mptcp from '../../generated/mptcp.js';
import * as netlinkDiag from '../../generated/netlink_diag.js';
import * as packetDiag from '../../generated/packet_diag.js';
import * as sctp from '../../generated/sctp.js';
import * as smcDiag from '../../generated/smc_diag.js';
import * as tipcDiag from '../../generated/tipc_sockets_diag.js';
import * as tls from '../../generated/tls.js';
import * as vsockDiag from '../../generated/vm_sockets_diag.js';
import * as xdpDiag from '../../generated/xdp_diag.js';

type Decoded = Record<string, unknown>;
type Decoder = (view: DataView, offset: number, length: number) => Decoded;

const schema = loadSchema(SCHEMA_DIR);
const modules: Record<string, Record<string, unknown>> = {
  mptcp,
  netlink_diag: netlinkDiag,
  packet_diag: packetDiag,
  sctp,
  smc_diag: smcDiag,
  tipc_sockets_diag: tipcDiag,
  vm_sockets_diag: vsockDiag,
  xdp_diag: xdpDiag,
};
const INSTALLED = [6, 1]; // the uapi headers of /usr/include on the reference machine
const newer = (since: string | undefined) => {
  if (!since) return false;
  const [a = 0, b = 0] = since.split('.').map(Number);
  return a > INSTALLED[0]! || (a === INSTALLED[0] && b > INSTALLED[1]!);
};
const AF_INET = 2;

/** Every struct of the family schemas, with the generated module that decodes it. */
/** C names the schema lists as absent from the headers (`omitted:`): no C type to fill. */
const notInHeaders = new Set(schema.files.flatMap((f) => f.omitted.map((o) => o.cName)));
const structs = [...schema.structs.values()]
  .map((s) => ({ s, module: schema.owner.get(s.name)!.module }))
  .filter(({ s, module }) => module in modules && !notInHeaders.has(s.cName));

function decoderOf(s: StructDef): Decoder {
  const module = schema.owner.get(s.name)!.module;
  const f = modules[module]![`decode${s.tsName}`];
  if (typeof f !== 'function') throw new Error(`no decode${s.tsName} in generated/${module}.ts`);
  return f as Decoder;
}

const PRELUDE = [
  '#define _GNU_SOURCE',
  '#include <stdint.h>',
  '#include <stdio.h>',
  '#include <string.h>',
  '#include <sys/socket.h>',
  '#include <netinet/in.h>',
  '#include <arpa/inet.h>',
  '#include <linux/types.h>',
  '#include <linux/netlink.h>',
  '#include <linux/filter.h>',
  '#include <linux/sock_diag.h>',
  '#include <linux/inet_diag.h>',
  '#include <linux/netlink_diag.h>',
  '#include <linux/packet_diag.h>',
  '#include <linux/xdp_diag.h>',
  '#include <linux/vm_sockets_diag.h>',
  '#include <linux/smc_diag.h>',
  '#include <linux/tipc_sockets_diag.h>',
  '#include <linux/mptcp.h>',
  '#include <linux/sctp.h>',
  '#include <linux/tls.h>',
  'static __attribute__((unused)) void dump(const char *name, const void *p, size_t n) {',
  '  const unsigned char *b = p;',
  '  printf("%s ", name);',
  '  for (size_t i = 0; i < n; i++) printf("%02x", b[i]);',
  '  printf("\\n");',
  '}',
].join('\n');

/** Runs `body` (statements of main) after the prelude; returns the dumped byte strings by name. */
function runFixtures(body: string[]): Map<string, Uint8Array> {
  const out = runC([PRELUDE, 'int main(void) {', ...body, '  return 0;', '}', ''].join('\n'));
  const fixtures = new Map<string, Uint8Array>();
  for (const line of out.trim().split('\n')) {
    const [name, hex = ''] = line.split(' ');
    fixtures.set(name!, Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16)));
  }
  return fixtures;
}

const viewOf = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

// ---------------------------------------------------------------------------------------
// Structs: every member gets its own value in C.

/** C members that are arrays in the header but a single nested struct in the schema. */
const cIndex: Record<string, string> = { 'smc-diag-lgrinfo.lnk': '[0]' };

interface Assignment {
  /** C statement setting the member of `s`. */
  c: string;
  /** Path of the member in the decoded object. */
  path: string[];
  expected: unknown;
}

/** A value of `type` that no other member of the struct has (k counts the members). */
function distinct(type: IntType, k: number): number | bigint {
  switch (type) {
    case 'u8':
      return 0x11 + ((k * 5) % 0xe0);
    case 'u16':
      return 0x1000 + k * 0x0101;
    case 'u32':
      return (0x10000001 + k * 0x01020304) >>> 0;
    case 'u64':
      return (0x0102030405060708n + BigInt(k) * 0x0011223344556677n) & 0xffffffffffffffffn;
    case 's8':
      return -(k + 1);
    case 's16':
      return -(0x100 + k);
    case 's32':
      return -(0x10000 + k * 3);
    case 's64':
      return -(0x100000000n + BigInt(k));
  }
}

function cLiteral(type: IntType, v: number | bigint, bigEndian: boolean): string {
  const lit = type === 'u64' ? `${v}ULL` : type === 's64' ? `(${v}LL)` : type === 'u32' ? `${v}U` : `(${v})`;
  if (!bigEndian) return lit;
  if (type === 'u16') return `htons(${lit})`;
  if (type === 'u32') return `htonl(${lit})`;
  throw new Error(`no big-endian helper for ${type}`);
}

/**
 * The assignments that fill struct `s` (reached in C as `cPrefix` and in the decoded
 * object at `path`), skipping members newer than the installed headers.
 */
function plan(s: StructDef, cPrefix: string, path: string[], counter: { k: number }, family?: number): Assignment[] {
  const out: Assignment[] = [];
  for (const m of s.members) {
    if (m.type === 'pad' || newer(m.since)) continue;
    const c = `${cPrefix}${m.cName}${cIndex[`${s.name}.${m.name}`] ?? ''}`;
    const p = [...path, m.tsName];
    const k = counter.k++;
    if (m.type === 'struct') {
      out.push(...plan(schema.structs.get(m.struct!)!, `${c}.`, p, counter, family));
    } else if (m.type === 'binary') {
      if (m.hint === 'inet-address') {
        // An IPv4 address in the first 4 bytes, as the kernel writes it for AF_INET.
        const bytes = [10, 1 + (k % 200), 2, 3];
        out.push({ c: `memcpy((void *)&${c}, (const unsigned char[]){${bytes.join(',')}}, 4);`, path: p, expected: bytes.join('.') });
      } else {
        const bytes = Array.from({ length: m.size }, (_, i) => (k * 31 + i * 7 + 1) & 0xff);
        out.push({ c: `_Static_assert(sizeof(${c}) == ${m.size}, "${s.name}.${m.name}"); memcpy((void *)&${c}, (const unsigned char[]){${bytes.join(',')}}, ${m.size});`, path: p, expected: Uint8Array.from(bytes) });
      }
    } else if (m.count !== undefined) {
      if (m.hint !== 'cookie' || m.type !== 'u32' || m.count !== 2) throw new Error(`${s.name}.${m.name}: only cookie arrays are expected here`);
      const lo = distinct('u32', k) as number;
      const hi = distinct('u32', k + 100) as number;
      out.push({ c: `${c}[0] = ${lo}U; ${c}[1] = ${hi}U;`, path: p, expected: (BigInt(hi) << 32n) | BigInt(lo) });
    } else {
      const type = m.type as IntType;
      const isFamily = family !== undefined && path.length === 0 && s.addressFamily === m.tsName;
      const v = isFamily ? family : distinct(type, k);
      out.push({ c: `${c} = ${cLiteral(type, v, m.bigEndian)};`, path: p, expected: v });
    }
  }
  return out;
}

const at = (o: unknown, path: string[]) => path.reduce<unknown>((x, k) => (x as Decoded | undefined)?.[k], o);

const structPlans = structs.map(({ s }) => {
  const assignments = plan(s, 's.', [], { k: 0 }, s.addressFamily ? AF_INET : undefined);
  const tag = s.cName;
  const c = `  { ${tag} s; memset(&s, 0, sizeof s); ${assignments.map((a) => a.c).join(' ')} dump("${s.name}", &s, sizeof s); }`;
  return { s, assignments, c };
});

const skip = gccMissing ? ` (SKIPPED: ${gccMissing})` : '';

describe.skipIf(gccMissing !== undefined)(`struct fixtures filled member by member in C${skip}`, () => {
  let fixtures: Map<string, Uint8Array>;
  beforeAll(() => {
    fixtures = runFixtures(structPlans.map((p) => p.c));
  });

  it('covers every struct of the family schemas', () => {
    expect(structs.map(({ s }) => s.name).sort()).toEqual(
      [
        'mptcp-info',
        'netlink-diag-msg',
        'netlink-diag-req',
        'netlink-diag-ring',
        'packet-diag-info',
        'packet-diag-mclist',
        'packet-diag-msg',
        'packet-diag-req',
        'packet-diag-ring',
        'sctp-info',
        'smc-diag-conninfo',
        'smc-diag-cursor',
        'smc-diag-fallback',
        'smc-diag-lgrinfo',
        'smc-diag-linkinfo',
        'smc-diag-msg',
        'smc-diag-req',
        'smcd-diag-dmbinfo',
        'sock-filter',
        'tipc-sock-diag-req',
        'vsock-diag-msg',
        'vsock-diag-req',
        'xdp-diag-info',
        'xdp-diag-msg',
        'xdp-diag-req',
        'xdp-diag-ring',
        'xdp-diag-stats',
        'xdp-diag-umem',
      ].sort(),
    );
  });

  it.each(structPlans.map((p) => [p.s.name, p] as const))('%s: the decoder reads back every member gcc wrote', (_name, { s, assignments }) => {
    const bytes = fixtures.get(s.name)!;
    expect(bytes, `no fixture for ${s.name}`).toBeDefined();
    const hasNewer = s.members.some((m) => newer(m.since));
    // sizeof in C: the schema's size, or, for structs that grew after the installed headers, less.
    if (hasNewer) expect(bytes.length).toBeLessThan(s.size);
    else expect(bytes.length).toBe(s.size);
    expect(bytes.length).toBeGreaterThanOrEqual(s.minSize);
    const got = decoderOf(s)(viewOf(bytes), 0, bytes.length);
    expect(assignments.length).toBeGreaterThan(0);
    for (const a of assignments) expect(at(got, a.path), `${s.name}: ${a.path.join('.')}`).toEqual(a.expected);
    // Members newer than the headers: zero when they fall into the C struct's trailing padding, else absent.
    for (const m of s.members.filter((x) => newer(x.since))) {
      const inside = m.offset + m.size <= bytes.length;
      expect(got[m.tsName], `${s.name}: ${m.name}`).toEqual(inside ? (m.size === 8 ? 0n : 0) : undefined);
    }
    expect(got.extra).toBeUndefined();
  });

  it('smc_diag_msg: the addresses of the embedded inet_diag_sockid decode by diag_family', () => {
    const p = structPlans.find((x) => x.s.name === 'smc-diag-msg')!;
    const got = smcDiag.decodeSmcDiagMsg(viewOf(fixtures.get('smc-diag-msg')!), 0, smcDiag.SMC_DIAG_MSG_SIZE);
    expect(got.diagFamily).toBe(AF_INET);
    expect(got.id.src).toMatch(/^10\.\d+\.2\.3$/);
    expect(got.id.src).toBe(p.assignments.find((a) => a.path.join('.') === 'id.src')!.expected);
    // With AF_SMC (43) in diag_family the family says nothing of IPv4 or IPv6: the address comes out as raw hex.
    const b = fixtures.get('smc-diag-msg')!.slice();
    b[0] = 43;
    const smc = smcDiag.decodeSmcDiagMsg(viewOf(b), 0, b.length);
    expect(smc.id.src).not.toBe(got.id.src);
    expect(smc.id.sport).toBe(got.id.sport);
  });
});

// ---------------------------------------------------------------------------------------
// Members newer than the installed 6.1 headers, at the offsets of the newer headers.

describe.skipIf(gccMissing !== undefined)(`structs that grew after the installed headers${skip}`, () => {
  let fixtures: Map<string, Uint8Array>;
  beforeAll(() => {
    fixtures = runFixtures(structPlans.filter((p) => ['mptcp-info', 'smcd-diag-dmbinfo'].includes(p.s.name)).map((p) => p.c));
  });

  /** The C bytes (the 6.1 layout) extended to `size` bytes, with newer members written by `write`. */
  const grow = (name: string, size: number, write: (v: DataView) => void) => {
    const b = new Uint8Array(size);
    b.set(fixtures.get(name)!);
    write(viewOf(b));
    return b;
  };
  const older = (name: string) => structPlans.find((p) => p.s.name === name)!.assignments;

  it('mptcp_info of Linux 6.19 (96 bytes): every member, old and new', () => {
    // include/uapi/linux/mptcp.h after 6.19: retransmits at 44, the four byte counters at
    // 48..79, subflows_total 80, endp_laminar_max 81, endp_fullmesh_max 82, reserved 83,
    // last_data_sent 84, last_data_recv 88, last_ack_recv 92.
    const b = grow('mptcp-info', 96, (v) => {
      v.setUint32(44, 0xa1a2a3a4, true);
      v.setBigUint64(48, 0x1111111111111111n, true);
      v.setBigUint64(56, 0x2222222222222222n, true);
      v.setBigUint64(64, 0x3333333333333333n, true);
      v.setBigUint64(72, 0x4444444444444444n, true);
      v.setUint8(80, 0x51);
      v.setUint8(81, 0x52);
      v.setUint8(82, 0x53);
      v.setUint8(83, 0x54);
      v.setUint32(84, 0xb1b2b3b4, true);
      v.setUint32(88, 0xc1c2c3c4, true);
      v.setUint32(92, 0xd1d2d3d4, true);
    });
    const got = mptcp.decodeMptcpInfo(viewOf(b), 0, b.length);
    for (const a of older('mptcp-info')) expect(at(got, a.path), a.path.join('.')).toEqual(a.expected);
    expect(got).toMatchObject({
      retransmits: 0xa1a2a3a4,
      bytesRetrans: 0x1111111111111111n,
      bytesSent: 0x2222222222222222n,
      bytesReceived: 0x3333333333333333n,
      bytesAcked: 0x4444444444444444n,
      subflowsTotal: 0x51,
      endpLaminarMax: 0x52,
      endpFullmeshMax: 0x53,
      reserved: 0x54,
      lastDataSent: 0xb1b2b3b4,
      lastDataRecv: 0xc1c2c3c4,
      lastAckRecv: 0xd1d2d3d4,
    });
    expect(got.extra).toBeUndefined();
    expect(mptcp.MPTCP_INFO_SIZE).toBe(96);
  });

  it('mptcp_info of older kernels: 40 bytes (5.9), 80 (6.5) and 88 (6.7) stop where they stop', () => {
    const full = grow('mptcp-info', 96, (v) => {
      v.setBigUint64(72, 0x4444444444444444n, true);
      v.setUint8(80, 7);
      v.setUint32(84, 99, true);
    });
    const v59 = mptcp.decodeMptcpInfo(viewOf(full), 0, 40);
    expect(v59.rcvNxt).toBe(older('mptcp-info').find((a) => a.path[0] === 'rcvNxt')!.expected);
    expect(v59.localAddrUsed).toBeUndefined();
    expect(v59.csumEnabled).toBeUndefined();
    const v65 = mptcp.decodeMptcpInfo(viewOf(full), 0, 80);
    expect(v65.bytesAcked).toBe(0x4444444444444444n);
    expect(v65.subflowsTotal).toBeUndefined();
    // 6.7 sent 88 bytes: subflows_total at 80, then trailing padding, which a 6.10 reader sees as last_data_sent.
    const v67 = mptcp.decodeMptcpInfo(viewOf(full), 0, 88);
    expect(v67.subflowsTotal).toBe(7);
    expect(v67.lastDataSent).toBe(99);
    expect(v67.lastDataRecv).toBeUndefined();
    expect(() => mptcp.decodeMptcpInfo(viewOf(full), 0, 39)).toThrow(/needs 40 bytes/);
  });

  it('smcd_diag_dmbinfo of Linux 6.8 (56 bytes): the extended GID halves at 40 and 48', () => {
    const b = grow('smcd-diag-dmbinfo', 56, (v) => {
      v.setBigUint64(40, 0x0a0b0c0d0e0f1011n, true);
      v.setBigUint64(48, 0x2122232425262728n, true);
    });
    const got = smcDiag.decodeSmcdDiagDmbinfo(viewOf(b), 0, b.length);
    for (const a of older('smcd-diag-dmbinfo')) expect(at(got, a.path), a.path.join('.')).toEqual(a.expected);
    expect(got.peerGidExt).toBe(0x0a0b0c0d0e0f1011n);
    expect(got.myGidExt).toBe(0x2122232425262728n);
    const old = smcDiag.decodeSmcdDiagDmbinfo(viewOf(b), 0, 40);
    expect(old.peerGidExt).toBeUndefined();
    expect(old.myGidExt).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------
// Attributes laid out in C with the headers' own ids and values.

const ATTR_HELPERS = [
  'static unsigned char buf[8192];',
  'static size_t off;',
  'static __attribute__((unused)) void put(int type, const void *data, size_t len) {',
  '  struct nlattr *a = (struct nlattr *)(buf + off);',
  '  a->nla_len = NLA_HDRLEN + len; a->nla_type = type;',
  '  if (len) memcpy(buf + off + NLA_HDRLEN, data, len);',
  '  off += NLA_ALIGN(a->nla_len);',
  '}',
  'static __attribute__((unused)) void put8(int type, __u8 v) { put(type, &v, 1); }',
  'static __attribute__((unused)) void put16(int type, __u16 v) { put(type, &v, 2); }',
  'static __attribute__((unused)) void put32(int type, __u32 v) { put(type, &v, 4); }',
  'static __attribute__((unused)) void put64(int type, __u64 v) { put(type, &v, 8); }',
  'static __attribute__((unused)) size_t nest(int type) { size_t at = off; put(type | NLA_F_NESTED, NULL, 0); return at; }',
  'static __attribute__((unused)) void end(size_t at) { ((struct nlattr *)(buf + at))->nla_len = off - at; }',
  'static __attribute__((unused)) void flush(const char *name) { dump(name, buf, off); off = 0; memset(buf, 0, sizeof buf); }',
].join('\n');

const ATTR_BODY = String.raw`
  /* INET_DIAG_ULP_INFO of a kTLS socket */
  { size_t t; put(INET_ULP_INFO_NAME, "tls", 4); t = nest(INET_ULP_INFO_TLS);
    put16(TLS_INFO_VERSION, TLS_1_3_VERSION); put16(TLS_INFO_CIPHER, TLS_CIPHER_CHACHA20_POLY1305);
    put16(TLS_INFO_TXCONF, TLS_CONF_SW); put16(TLS_INFO_RXCONF, TLS_CONF_HW);
    put(TLS_INFO_ZC_RO_TX, NULL, 0); put(TLS_INFO_RX_NO_PAD, NULL, 0); end(t); flush("ulp-tls"); }
  /* INET_DIAG_ULP_INFO of an MPTCP subflow */
  { size_t t; put(INET_ULP_INFO_NAME, "mptcp", 6); t = nest(INET_ULP_INFO_MPTCP);
    put32(MPTCP_SUBFLOW_ATTR_TOKEN_REM, 0x01020304); put32(MPTCP_SUBFLOW_ATTR_TOKEN_LOC, 0x05060708);
    put32(MPTCP_SUBFLOW_ATTR_RELWRITE_SEQ, 0x090a0b0c); put(MPTCP_SUBFLOW_ATTR_PAD, NULL, 0);
    put64(MPTCP_SUBFLOW_ATTR_MAP_SEQ, 0x1112131415161718ULL); put32(MPTCP_SUBFLOW_ATTR_MAP_SFSEQ, 0x191a1b1c);
    put32(MPTCP_SUBFLOW_ATTR_SSN_OFFSET, 0x1d1e1f20); put16(MPTCP_SUBFLOW_ATTR_MAP_DATALEN, 0x2122);
    put32(MPTCP_SUBFLOW_ATTR_FLAGS, MPTCP_SUBFLOW_FLAG_MCAP_LOC | MPTCP_SUBFLOW_FLAG_CONNECTED | MPTCP_SUBFLOW_FLAG_MAPVALID);
    put8(MPTCP_SUBFLOW_ATTR_ID_REM, 3); put8(MPTCP_SUBFLOW_ATTR_ID_LOC, 4); end(t); flush("ulp-mptcp"); }
  /* netlink_diag */
  { __u32 mem[SK_MEMINFO_VARS]; for (int i = 0; i < SK_MEMINFO_VARS; i++) mem[i] = 100 + i;
    __u64 groups = (1ULL << 0) | (1ULL << 4) | (1ULL << 33);
    struct netlink_diag_ring r = { .ndr_block_size = 4096, .ndr_block_nr = 2, .ndr_frame_size = 2048, .ndr_frame_nr = 4 };
    put(NETLINK_DIAG_MEMINFO, mem, sizeof mem); put(NETLINK_DIAG_GROUPS, &groups, sizeof groups);
    put(NETLINK_DIAG_RX_RING, &r, sizeof r); put32(NETLINK_DIAG_FLAGS, NDIAG_FLAG_PKTINFO | NDIAG_FLAG_CAP_ACK);
    flush("netlink-attrs"); }
  /* packet_diag */
  { struct packet_diag_info i = { .pdi_index = 3, .pdi_version = 2, .pdi_reserve = 16, .pdi_copy_thresh = 0,
      .pdi_tstamp = 5, .pdi_flags = PDI_RUNNING | PDI_AUXDATA | PDI_LOSS };
    struct packet_diag_mclist ml[2] = { { .pdmc_index = 3, .pdmc_count = 1, .pdmc_type = 0, .pdmc_alen = 6,
      .pdmc_addr = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 } }, { .pdmc_index = 4, .pdmc_count = 2, .pdmc_type = 1 } };
    struct packet_diag_ring r = { .pdr_block_size = 1 << 16, .pdr_block_nr = 8, .pdr_frame_size = 2048,
      .pdr_frame_nr = 256, .pdr_retire_tmo = 60, .pdr_sizeof_priv = 12, .pdr_features = 1 };
    struct sock_filter f[2] = { BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12), BPF_STMT(BPF_RET | BPF_K, 0xffff) };
    __u32 mem[SK_MEMINFO_VARS] = { 1, 2, 3 };
    size_t t;
    put(PACKET_DIAG_INFO, &i, sizeof i); put32(PACKET_DIAG_UID, 1000);
    t = nest(PACKET_DIAG_MCLIST); memcpy(buf + off, ml, sizeof ml); off += sizeof ml; end(t);
    put(PACKET_DIAG_RX_RING, &r, sizeof r); put32(PACKET_DIAG_FANOUT, 7 | (PACKET_FANOUT_CPU << 16));
    put(PACKET_DIAG_MEMINFO, mem, sizeof mem); put(PACKET_DIAG_FILTER, f, sizeof f); flush("packet-attrs"); }
  /* xdp_diag */
  { struct xdp_diag_info i = { .ifindex = 5, .queue_id = 2 };
    struct xdp_diag_ring rx = { .entries = 2048 }, tx = { .entries = 1024 }, fq = { .entries = 4096 }, cq = { .entries = 512 };
    struct xdp_diag_umem u = { .size = 1ULL << 33, .id = 9, .num_pages = 2097152, .chunk_size = 4096, .headroom = 256,
      .ifindex = 5, .queue_id = 2, .flags = XDP_DU_F_ZEROCOPY, .refs = 2 };
    struct xdp_diag_stats st = { .n_rx_dropped = 1, .n_rx_invalid = 2, .n_rx_full = 3, .n_fill_ring_empty = 4,
      .n_tx_invalid = 5, .n_tx_ring_empty = 6 };
    __u32 mem[SK_MEMINFO_VARS] = { 7 };
    put(XDP_DIAG_INFO, &i, sizeof i); put32(XDP_DIAG_UID, 0); put(XDP_DIAG_RX_RING, &rx, sizeof rx);
    put(XDP_DIAG_TX_RING, &tx, sizeof tx); put(XDP_DIAG_UMEM, &u, sizeof u);
    put(XDP_DIAG_UMEM_FILL_RING, &fq, sizeof fq); put(XDP_DIAG_UMEM_COMPLETION_RING, &cq, sizeof cq);
    put(XDP_DIAG_MEMINFO, mem, sizeof mem); put(XDP_DIAG_STATS, &st, sizeof st); flush("xdp-attrs"); }
  /* smc_diag */
  { struct smc_diag_conninfo c; memset(&c, 0, sizeof c); c.token = 77; c.rmbe_size = 65536; c.tx_fin.wrap = 3; c.tx_fin.count = 1234;
    struct smc_diag_lgrinfo l; memset(&l, 0, sizeof l); l.lnk[0].link_id = 1; strcpy((char *)l.lnk[0].ibname, "mlx5_0");
    l.lnk[0].ibport = 1; strcpy((char *)l.lnk[0].gid, "fe80:0000:0000:0000:0000:0000:0000:0001"); l.role = 1;
    struct smcd_diag_dmbinfo d; memset(&d, 0, sizeof d); d.linkid = 0x11; d.peer_gid = 0x22; d.my_gid = 0x33; d.token = 0x44; d.peer_token = 0x55;
    struct smc_diag_fallback fb = { .reason = 0x03030000, .peer_diagnosis = 0x03030001 };
    put(SMC_DIAG_CONNINFO, &c, sizeof c); put(SMC_DIAG_LGRINFO, &l, sizeof l); put8(SMC_DIAG_SHUTDOWN, 3);
    put(SMC_DIAG_DMBINFO, &d, sizeof d); put(SMC_DIAG_FALLBACK, &fb, sizeof fb); flush("smc-attrs"); }
`;

describe.skipIf(gccMissing !== undefined)(`reply attributes laid out in C with the headers' ids${skip}`, () => {
  let fixtures: Map<string, Uint8Array>;
  beforeAll(() => {
    const out = runC([PRELUDE, '#include <linux/if_packet.h>', ATTR_HELPERS, 'int main(void) {', ATTR_BODY, '  return 0;', '}', ''].join('\n'));
    fixtures = new Map(
      out
        .trim()
        .split('\n')
        .map((line) => {
          const [name, hex = ''] = line.split(' ');
          return [name!, Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16))] as const;
        }),
    );
  });
  const decode = <T>(name: string, f: (view: DataView, offset: number, length: number) => T): T => {
    const b = fixtures.get(name)!;
    return f(viewOf(b), 0, b.length);
  };

  it('INET_DIAG_ULP_INFO of kTLS: the TLS_INFO_* nest', () => {
    const got = decode('ulp-tls', inetDiag.decodeInetDiagUlpInfo);
    expect(got.unknown).toBeUndefined();
    expect(got.name).toBe('tls');
    expect(got.tls).toEqual({ version: 0x0304, cipher: 54, txconf: 2, rxconf: 3, zcRoTx: true, rxNoPad: true });
    expect(tls.tlsVersionName(got.tls!.version!)).toBe('tls-1-3');
    expect(tls.tlsCipherName(got.tls!.cipher!)).toBe('chacha20-poly1305');
    expect(tls.tlsConfName(got.tls!.txconf!)).toBe('sw');
    expect(tls.tlsConfName(got.tls!.rxconf!)).toBe('hw');
  });

  it('INET_DIAG_ULP_INFO of an MPTCP subflow: the MPTCP_SUBFLOW_ATTR_* nest', () => {
    const got = decode('ulp-mptcp', inetDiag.decodeInetDiagUlpInfo);
    expect(got.name).toBe('mptcp');
    expect(got.mptcp).toEqual({
      tokenRem: 0x01020304,
      tokenLoc: 0x05060708,
      relwriteSeq: 0x090a0b0c,
      mapSeq: 0x1112131415161718n,
      mapSfseq: 0x191a1b1c,
      ssnOffset: 0x1d1e1f20,
      mapDatalen: 0x2122,
      flags: (1 << 1) | (1 << 7) | (1 << 8),
      idRem: 3,
      idLoc: 4,
    });
    expect(mptcp.mptcpSubflowFlagsNames(got.mptcp!.flags!)).toEqual(['mcap-loc', 'connected', 'mapvalid']);
  });

  it('netlink_diag attributes', () => {
    const got = decode('netlink-attrs', netlinkDiag.decodeNetlinkDiagAttrs);
    expect(got.unknown).toBeUndefined();
    expect(got.meminfo).toEqual([100, 101, 102, 103, 104, 105, 106, 107, 108]);
    expect(got.groups).toEqual([(1 << 0) | (1 << 4), 1 << 1]); // groups 1, 5 and 34
    expect(got.rxRing).toEqual({ blockSize: 4096, blockNr: 2, frameSize: 2048, frameNr: 4 });
    expect(netlinkDiag.ndiagFlagsNames(got.flags!)).toEqual(['pktinfo', 'cap-ack']);
  });

  it('packet_diag attributes, with the mclist array of struct packet_diag_mclist', () => {
    const got = decode('packet-attrs', packetDiag.decodePacketDiagAttrs);
    expect(got.unknown).toBeUndefined();
    expect(got.info).toEqual({ index: 3, version: 2, reserve: 16, copyThresh: 0, tstamp: 5, flags: 0x1 | 0x2 | 0x10 });
    expect(packetDiag.pdiFlagsNames(got.info!.flags)).toEqual(['running', 'auxdata', 'loss']);
    expect(got.uid).toBe(1000);
    const ml = got.mclist!;
    expect(ml.length).toBe(2 * packetDiag.PACKET_DIAG_MCLIST_SIZE);
    const first = packetDiag.decodePacketDiagMclist(viewOf(ml), 0, packetDiag.PACKET_DIAG_MCLIST_SIZE);
    const second = packetDiag.decodePacketDiagMclist(viewOf(ml), packetDiag.PACKET_DIAG_MCLIST_SIZE, packetDiag.PACKET_DIAG_MCLIST_SIZE);
    expect(first).toMatchObject({ index: 3, count: 1, type: 0, alen: 6 });
    expect([...first.addr.subarray(0, 6)]).toEqual([0x01, 0x00, 0x5e, 0x00, 0x00, 0x01]);
    expect(second).toMatchObject({ index: 4, count: 2, type: 1, alen: 0 });
    expect(got.rxRing).toEqual({ blockSize: 1 << 16, blockNr: 8, frameSize: 2048, frameNr: 256, retireTmo: 60, sizeofPriv: 12, features: 1 });
    expect(got.fanout).toEqual({ id: 7, mode: packetDiag.PacketFanoutMode.cpu, extra: undefined });
    expect(got.meminfo!.slice(0, 3)).toEqual([1, 2, 3]);
    expect([...got.filter!]).toEqual([0x28, 0, 0, 0, 12, 0, 0, 0, 0x06, 0, 0, 0, 0xff, 0xff, 0, 0]);
  });

  it('xdp_diag attributes', () => {
    const got = decode('xdp-attrs', xdpDiag.decodeXdpDiagAttrs);
    expect(got.unknown).toBeUndefined();
    expect(got.info).toEqual({ ifindex: 5, queueId: 2 });
    expect(got.uid).toBe(0);
    expect([got.rxRing?.entries, got.txRing?.entries, got.umemFillRing?.entries, got.umemCompletionRing?.entries]).toEqual([2048, 1024, 4096, 512]);
    expect(got.umem).toEqual({ size: 1n << 33n, id: 9, numPages: 2097152, chunkSize: 4096, headroom: 256, ifindex: 5, queueId: 2, flags: 1, refs: 2 });
    expect(xdpDiag.xdpDuFlagsNames(got.umem!.flags)).toEqual(['zerocopy']);
    expect(got.meminfo![0]).toBe(7);
    expect(got.stats).toEqual({ nRxDropped: 1n, nRxInvalid: 2n, nRxFull: 3n, nFillRingEmpty: 4n, nTxInvalid: 5n, nTxRingEmpty: 6n });
  });

  it('smc_diag attributes', () => {
    const got = decode('smc-attrs', smcDiag.decodeSmcDiagAttrs);
    expect(got.unknown).toBeUndefined();
    expect(got.conninfo).toMatchObject({ token: 77, rmbeSize: 65536, txFin: { reserved: 0, wrap: 3, count: 1234 } });
    const lnk = got.lgrinfo!.lnk;
    expect(new TextDecoder().decode(lnk.ibname).replace(/\0+$/, '')).toBe('mlx5_0');
    expect(new TextDecoder().decode(lnk.gid).replace(/\0+$/, '')).toBe('fe80:0000:0000:0000:0000:0000:0000:0001');
    expect([lnk.linkId, lnk.ibport, got.lgrinfo!.role]).toEqual([1, 1, 1]);
    expect(got.shutdown).toBe(3);
    expect(got.dmbinfo).toMatchObject({ linkid: 0x11, peerGid: 0x22n, myGid: 0x33n, token: 0x44n, peerToken: 0x55n });
    expect(got.dmbinfo!.peerGidExt).toBeUndefined(); // the installed 6.1 struct is 40 bytes
    expect(got.fallback).toEqual({ reason: 0x03030000, peerDiagnosis: 0x03030001 });
  });
});

// ---------------------------------------------------------------------------------------

describe('request headers encode as the kernel reads them', () => {
  it('vsock, tipc and smc requests round-trip through their encoders', () => {
    const v = vsockDiag.encodeVsockDiagReq({ sdiagFamily: 40, sdiagProtocol: 0, pad: 0, vdiagStates: 1 << 10, vdiagIno: 0, vdiagShow: 0, vdiagCookie: 0n });
    expect(v.length).toBe(24);
    expect(vsockDiag.decodeVsockDiagReq(viewOf(v), 0, v.length).vdiagStates).toBe(1 << 10);
    const t = tipcDiag.encodeTipcSockDiagReq({ sdiagFamily: 30, sdiagProtocol: 0, pad: 0, tidiagStates: 0xffffffff });
    expect([...t]).toEqual([30, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    expect(smcDiag.SMC_DIAG_REQ_SIZE).toBe(52);
    expect(sctp.SCTP_INFO_SIZE).toBe(368);
  });
});
