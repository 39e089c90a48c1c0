/**
 * Writes cli/output.schema.json, the JSON Schema of `sockdiag --json` / `--ndjson`,
 * from the library's record types (read with ts-morph, see cli-types.ts) and the
 * schema model (docs, and integer widths for the bounds):
 *
 *     npx tsx test/helpers/cli-schema-build.ts
 *
 * Run it after a change to the records (a new attribute, a new tcp_info field); the
 * drift test (test/cli/schema.test.ts) fails until the schema matches the types.
 * What the types cannot say (descriptions of the fixed header fields, netid, users,
 * the summary of -s) is written here.
 */
import { writeFileSync } from 'node:fs';
import { loadSchema } from '../../generator/load.js';
import type { Member } from '../../generator/model.js';
import { recordShapes, type Fragment } from './cli-types.js';

const ROOT = new URL('../../', import.meta.url);

/** Bits of each integer type, for `maximum`. */
const WIDTH: Record<string, number> = { u8: 8, u16: 16, u32: 32, s8: 8, s16: 16, s32: 32 };

/** The fixed header fields of the records (struct inet_diag_msg / unix_diag_msg, flattened and renamed). */
const HEADER: Record<string, { bits?: number; doc: string }> = {
  state: { doc: 'Socket state, as the kernel names it (`listen`, `established`, `close` for an unconnected UDP or UNIX socket, ...); a state this version does not know shows as `state-N`.' },
  timer: { doc: 'The pending TCP timer: `off`, `on` (retransmit), `keepalive`, `timewait`, `probe0` (zero window probe), `delack`; one this version does not know shows as `timer-N`.' },
  retrans: { bits: 8, doc: 'Retransmissions or probes sent for the pending timer (idiag_retrans).' },
  src: { doc: 'Local address as text (`127.0.0.1`, `::1`).' },
  dst: { doc: 'Remote address as text (`0.0.0.0` or `::` when unconnected).' },
  sport: { bits: 16, doc: 'Local port.' },
  dport: { bits: 16, doc: 'Remote port; 0 when unconnected.' },
  ifindex: { bits: 32, doc: 'Index of the interface the socket is bound to; 0 for none.' },
  cookie: { doc: "The kernel's unique id of the socket, 64 bits as decimal text (ss -e shows it in hex as `sk:`)." },
  expires: { bits: 32, doc: 'Milliseconds until the pending timer fires.' },
  rqueue: { bits: 32, doc: "Bytes in the receive queue; for a listener, connections waiting to be accepted (ss's Recv-Q)." },
  wqueue: { bits: 32, doc: "Bytes in the send queue; for a listener, its backlog (ss's Send-Q)." },
  uid: { bits: 32, doc: "The owner's user id." },
  inode: { bits: 32, doc: 'Inode number of the socket; 0 for a socket no process holds yet (a connection not accepted).' },
  type: { doc: 'Socket type: `stream`, `dgram`, `seqpacket` (another type by its name, or `type-N`).' },
  path: { doc: 'The bound name for display: a path, or `@name` for an abstract name; control characters and bytes that are not UTF-8 are escaped as `\\xNN`. Absent for an unbound socket. The raw bytes are in `name`.' },
};

/** What the types do not say about the socket records: their netid and description. */
const SOCKETS: Record<string, { description: string; netid: Fragment }> = {
  InetSocket: {
    description:
      'An INET (IPv4 or IPv6) socket: the fields of struct inet_diag_msg and every attribute the kernel sent with it (-i adds info, cong, meminfo and the congestion control state: vegasinfo, dctcpinfo or bbrinfo; -m adds skmeminfo; -e adds tos, tclass, shutdown), plus `netid`, and `users` with -p.',
    netid: { description: "The socket table, as ss's Netid column names it.", enum: ['tcp', 'udp', 'raw', 'mptcp'] },
  },
  UnixSocket: {
    description: 'A UNIX domain socket: the fields of struct unix_diag_msg and every attribute the kernel sent with it, plus `netid`, and `users` with -p.',
    netid: {
      description: "ss's Netid: `u_str`, `u_dgr`, `u_seq` (stream, dgram, seqpacket); any other type by its name.",
      anyOf: [{ enum: ['u_str', 'u_dgr', 'u_seq'] }, { enum: ['raw', 'rdm', 'dccp', 'packet'] }, { type: 'string', pattern: '^type-[0-9]+$' }],
    },
  },
  PacketSocketInfo: {
    description: 'A PACKET socket: the fields of struct packet_diag_msg and every attribute the kernel sent with it, plus `netid`, and `users` with -p.',
    netid: { description: "ss's Netid: `p_raw` or `p_dgr`.", enum: ['p_raw', 'p_dgr', 'p_???'] },
  },
  NetlinkSocketInfo: {
    description: 'A netlink socket: the fields of struct netlink_diag_msg and every attribute the kernel sent with it, plus `netid`, and `users` with -p.',
    netid: { description: "ss's Netid: `nl`.", const: 'nl' },
  },
};

const firstParagraph = (doc?: string) => doc?.split(/\n\s*\n/)[0]!.replace(/\s+/g, ' ').trim();

function withBounds(f: Fragment, bits: number | undefined): Fragment {
  if (f.type === 'integer') return { ...f, minimum: 0, ...(bits ? { maximum: 2 ** bits - 1 } : {}) };
  if (f.type === 'array') return { ...f, items: withBounds(f.items as Fragment, bits) };
  return f;
}

const memberBits = (m: Member) => m.bits?.width ?? WIDTH[m.type];

export function buildSchema(): Record<string, unknown> {
  const model = loadSchema(new URL('schema', ROOT).pathname);
  const structs = new Map([...model.structs.values()].map((s) => [s.tsName, s]));
  const sets = new Map([...model.sets.values()].map((s) => [s.tsName, s]));
  const defs: Record<string, Fragment> = {};

  const { roots, shapes } = recordShapes();
  for (const [name, shape] of shapes) {
    // A socket record (InetSocket, PacketSocketInfo) is its family's header struct and attribute set.
    const base = name.replace(/(SocketInfo|Socket)$/, '');
    const struct = structs.get(name) ?? structs.get(`${base}DiagMsg`);
    const set = sets.get(name) ?? sets.get(`${base}DiagAttrs`);
    const properties: Record<string, Fragment> = {};
    for (const [p, fragment] of Object.entries(shape.properties)) {
      let bits: number | undefined;
      let doc: string | undefined;
      const member = struct?.members.find((m) => m.tsName === p);
      const attr = set?.attributes.find((a) => a.tsName === p);
      // Fields the record turns into names or text keep the words written here.
      if (HEADER[p] && ['state', 'timer', 'type', 'path', 'src', 'dst', 'cookie'].includes(p) && !member?.tsName.startsWith('udiag')) [bits, doc] = [HEADER[p].bits, HEADER[p].doc];
      else if (member) [bits, doc] = [memberBits(member), firstParagraph(member.doc)];
      else if (attr) [bits, doc] = [WIDTH[attr.type] ?? (attr.subType ? WIDTH[attr.subType] : undefined), firstParagraph(attr.doc)];
      else if (HEADER[p]) [bits, doc] = [HEADER[p].bits, HEADER[p].doc];
      if (p === 'family') doc = name === 'InetSocket' ? 'Address family: `inet` (IPv4) or `inet6` (IPv6).' : 'const' in fragment ? `Always \`${String(fragment.const)}\`.` : undefined;
      if (p === 'extra') doc = 'Bytes the kernel sent past the end of the struct as this version knows it (a newer kernel), as hex.';
      if (p === 'unknown') doc = 'Attributes whose type this version does not know, kept as they came.';
      if (name === 'UnknownAttribute') [bits, doc] = p === 'type' ? [14, 'The attribute type (id).'] : [undefined, 'The payload, as hex.'];
      const f = withBounds(fragment, bits);
      properties[p] = doc ? { description: doc, ...f } : f;
    }
    const description = name === 'UnknownAttribute' ? 'A netlink attribute whose type this version does not know.' : firstParagraph((sets.get(name) ?? structs.get(name))?.doc);
    defs[name] = { type: 'object', ...(description ? { description } : {}), properties, required: shape.required, additionalProperties: false };
  }

  const users = {
    description: 'With -p: the processes that hold the socket, one entry per file descriptor (found under /proc/PID/fd, as ss -p finds them). Absent without -p, and for a socket no process holds.',
    $ref: '#/$defs/Users',
  };
  for (const root of roots) {
    const d = defs[root]!;
    const known = SOCKETS[root];
    if (known) d.description = known.description;
    d.properties = { netid: known?.netid ?? { description: "ss's Netid column.", type: 'string' }, ...(d.properties as object), users };
    d.required = ['netid', ...(d.required as string[])];
  }
  const stateNames = (defs.InetSocket!.properties as Record<string, Fragment>).state!.anyOf as Fragment[];

  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'urn:sockdiag:cli-output',
    title: 'sockdiag --json / --ndjson output',
    description:
      "`sockdiag --json` prints one array of sockets; `sockdiag --ndjson` prints one socket (#/$defs/Socket) per line. With -s, either prints one summary object instead. Each socket is the library's record (InetSocket, UnixSocket, ...) plus `netid`, and `users` with -p. Numbers that can exceed 2^53 (64-bit counters, cookies, cgroup ids) are decimal strings; byte strings are lowercase hex. A field the kernel did not send is absent, never null. Generated by test/helpers/cli-schema-build.ts.",
    oneOf: [{ type: 'array', items: { $ref: '#/$defs/Socket' } }, { $ref: '#/$defs/Summary' }],
    $defs: {
      Socket: { description: 'One socket; `family` tells which kind.', oneOf: roots.map((r) => ({ $ref: `#/$defs/${r}` })) },
      Summary: {
        description: 'With -s: socket counts, in total and by netid and state.',
        type: 'object',
        properties: {
          total: { description: 'Sockets counted.', type: 'integer', minimum: 0 },
          tables: {
            description: 'Counts by netid (`tcp`, `u_str`, ...), then by state name.',
            type: 'object',
            additionalProperties: { type: 'object', propertyNames: { anyOf: stateNames }, additionalProperties: { type: 'integer', minimum: 1 } },
          },
        },
        required: ['total', 'tables'],
        additionalProperties: false,
      },
      Users: { type: 'array', items: { $ref: '#/$defs/User' } },
      User: {
        description: 'A process holding the socket through one file descriptor.',
        type: 'object',
        properties: {
          name: { description: 'The command name (from /proc/PID/stat).', type: 'string' },
          pid: { description: "The process id, in the command's PID namespace.", type: 'integer', minimum: 1 },
          tid: { description: 'With -T: the thread id (the name is then the thread\'s).', type: 'integer', minimum: 1 },
          fd: { description: 'The file descriptor.', type: 'integer', minimum: 0 },
        },
        required: ['name', 'pid', 'fd'],
        additionalProperties: false,
      },
      Decimal: { description: 'An unsigned 64-bit number as decimal text.', type: 'string', pattern: '^(0|[1-9][0-9]*)$', maxLength: 20 },
      Hex: { description: 'Bytes as lowercase hex, two digits a byte.', type: 'string', pattern: '^([0-9a-f]{2})*$' },
      ...defs,
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const path = new URL('cli/output.schema.json', ROOT);
  writeFileSync(path, JSON.stringify(buildSchema(), null, 2) + '\n');
  console.log(`wrote ${path.pathname}`);
}
