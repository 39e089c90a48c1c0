/**
 * Compares the schema with a tree of C headers: values of constants, enum entries,
 * attributes, operations and groups; sizes, offsets and widths of structs and their
 * members; and the other way round, the names of the diag headers that the schema
 * lacks. Every finding becomes a {@link DiffRow}.
 */
import type { Member, Schema, SchemaFile, StructDef } from '../model.js';
import { parsePreprocessed, type CHeaders, type CMember } from './cdecl.js';
import { headerVersion, preprocess, runProbes, type Answer, type HeaderTree, type MemberLayout, type Probe } from './probe.js';

/** A header whose names the schema should cover, optionally only some of them. */
export interface CoverageScope {
  header: string;
  /** Only these structs (`struct tcp_info`); default all. */
  structs?: string[];
  /** Only constants and enum entries with these prefixes; default all. */
  prefixes?: string[];
}

/** The headers whose names the schema must cover (the diag headers, and the parts of others that diag replies carry). */
export const coverage: CoverageScope[] = [
  { header: 'linux/sock_diag.h' },
  { header: 'linux/inet_diag.h' },
  { header: 'linux/unix_diag.h' },
  {
    header: 'linux/tcp.h',
    structs: ['struct tcp_info'],
    prefixes: ['TCPI_OPT_', 'TCP_CA_', 'TCPF_CA_', 'TFO_', 'TCPI_ECN_MODE_', 'TCP_ACCECN_'],
  },
  { header: 'linux/netlink_diag.h' },
  { header: 'linux/packet_diag.h' },
  { header: 'linux/xdp_diag.h' },
  { header: 'linux/vm_sockets_diag.h' },
  { header: 'linux/smc_diag.h' },
  { header: 'linux/tipc_sockets_diag.h' },
  { header: 'linux/mptcp.h', structs: ['struct mptcp_info'], prefixes: ['MPTCP_INFO_FLAG_'] },
];

/**
 * - `ok`: schema and headers agree.
 * - `conflict`: both have it, with a different value or layout (a failure).
 * - `not-in-headers`: the schema has it, the headers don't, and its `since` is not newer (a failure).
 * - `newer`: the schema has it, the headers don't, and its `since` is newer than the headers.
 * - `not-in-schema`: a diag header has it, the schema doesn't (a failure).
 * - `omitted`: listed in the schema's `omitted:`.
 */
export type Verdict = 'ok' | 'conflict' | 'not-in-headers' | 'newer' | 'not-in-schema' | 'omitted';

/** The verdicts that make the diff fail. */
export const failures: ReadonlySet<Verdict> = new Set<Verdict>(['conflict', 'not-in-headers', 'not-in-schema']);

/** One compared item. */
export interface DiffRow {
  /** The schema file the item is in, or that models the header it comes from. */
  file: string;
  /** The C name: `INET_DIAG_INFO`, `struct tcp_info`, `struct tcp_info.tcpi_rtt`. */
  item: string;
  /** What the schema says; empty when the schema lacks it. */
  schema: string;
  /** What the headers say; empty when they lack it. */
  headers: string;
  verdict: Verdict;
  note?: string;
}

/** A header name the schema lacks, with what the headers say about it (for `--suggest`). */
export type MissingItem =
  | { kind: 'name'; file: string; cName: string; value?: bigint; enumNames?: string[] }
  | { kind: 'member'; file: string; record: string; member: CMember; layout?: MemberLayout; after?: string }
  | { kind: 'record'; file: string; record: string; size?: number; members: { member: CMember; layout?: MemberLayout }[] };

/** Everything the diff found. */
export interface DiffResult {
  headerDirs: string[];
  /** Kernel version of the headers, `6.1`, when known. */
  version?: string;
  rows: DiffRow[];
  /** Diag headers that no schema file models yet, with how many names they have. */
  notModelled: { header: string; items: number }[];
  missing: MissingItem[];
}

const intSizes: Record<string, number> = { u8: 1, u16: 2, u32: 4, u64: 8, s8: 1, s16: 2, s32: 4, s64: 8 };
const cWords = new Set(['sizeof', 'unsigned', 'signed', 'int', 'long', 'short', 'char']);

/** `struct x.member` */
export const memberItem = (record: string, member: string): string => `${record}.${member}`;

/** The layout the schema gives a member, in bits. */
export function schemaLayout(m: Member): MemberLayout {
  const int = m.type in intSizes;
  return {
    bitStart: m.offset * 8 + (m.bits?.shift ?? 0),
    bitWidth: m.bits ? m.bits.width : m.size * 8,
    bitField: m.bits !== undefined,
    unit: m.bits ? m.size : m.count ? m.size / m.count : undefined,
    signed: int ? m.type.startsWith('s') : undefined,
  };
}

/** A layout as table text: `offset 4, 4 bytes`, `offset 16, 8 bytes (2 x 4)` or `offset 5, bits 4..7`. */
export function layoutText(l: MemberLayout): string {
  const byte = Math.floor(l.bitStart / 8);
  const bit = l.bitStart % 8;
  const bytes = (n: number) => `${n} byte${n === 1 ? '' : 's'}`;
  const where =
    l.bitField || bit !== 0 || l.bitWidth % 8 !== 0
      ? `offset ${byte}, ${l.bitWidth === 1 ? `bit ${bit}` : `bits ${bit}..${bit + l.bitWidth - 1}`}`
      : l.bitWidth === 0 && l.unit
        ? `offset ${byte}, flexible array of ${l.unit}-byte elements`
        : `offset ${byte}, ${bytes(l.bitWidth / 8)}` + (l.unit ? ` (${l.bitWidth / 8 / l.unit} x ${l.unit})` : '');
  return where + (l.signed ? ', signed' : '');
}

function sameLayout(s: MemberLayout, c: MemberLayout): boolean {
  if (s.bitStart !== c.bitStart || s.bitWidth !== c.bitWidth) return false;
  if (s.signed !== undefined && c.signed !== undefined && s.signed !== c.signed) return false;
  return s.bitField || s.unit === undefined || c.unit === undefined || s.unit === c.unit;
}

/** The headers a schema file names in `c-header` (one, or several separated by commas or spaces). */
export const cHeaders = (f: SchemaFile): string[] => f.cHeader?.split(/[\s,]+/).filter(Boolean) ?? [];

/** Runs the whole comparison of `schema` against the headers in `tree`. */
export function diffSchema(schema: Schema, tree: HeaderTree): DiffResult {
  const version = headerVersion(tree);
  const headers = [...schema.files.flatMap(cHeaders), ...coverage.map((c) => c.header)];
  const c = parsePreprocessed(preprocess(tree, headers));
  const rows: DiffRow[] = [];
  const missing: MissingItem[] = [];
  const notModelled: DiffResult['notModelled'] = [];
  const probes: Probe[] = [];
  let answers: Answer[] = [];
  const later: (() => void)[] = [];
  const ask = (p: Probe) => probes.push(p) - 1;
  const row = (r: DiffRow) => later.push(() => rows.push(r));

  const omitted = new Map(schema.files.flatMap((f) => f.omitted.map((o) => [o.cName, o.why] as const)));
  const omittedSeen = new Set<string>();
  const newer = (since: string | undefined) => {
    if (!since || !version) return false;
    const [major = 0, minor = 0] = since.split('.').map(Number);
    return major > version[0] || (major === version[0] && minor > version[1]);
  };
  /** A schema item the headers lack. */
  const absent = (file: string, item: string, schemaText: string, since: string | undefined) => {
    const why = omitted.get(item);
    if (why !== undefined) omittedSeen.add(item);
    const verdict: Verdict = newer(since) ? 'newer' : why !== undefined ? 'omitted' : 'not-in-headers';
    row({ file, item, schema: schemaText, headers: '', verdict, note: verdict === 'omitted' ? why : since ? `since ${since}` : undefined });
  };
  const known = (expr: string) =>
    (expr.match(/[A-Za-z_]\w*|\d\w*/g) ?? []).every(
      (id) => /^\d/.test(id) || c.macros.has(id) || c.enumConsts.has(id) || cWords.has(id) || /^__([us]|be|le)\d+$/.test(id),
    );
  const valueText = (v: bigint | number, hex: boolean) => (hex && v > 9 ? `0x${v.toString(16)}` : String(v));

  function checkValue(file: string, cName: string, value: number, since: string | undefined, hex: boolean): void {
    if (!known(cName)) return absent(file, cName, valueText(value, hex), since);
    const id = ask({ kind: 'value', expr: cName });
    later.push(() => {
      const a = answers[id]!;
      const headers = a.kind === 'value' ? valueText(a.value, hex) : `error: ${a.kind === 'error' ? a.message : a.kind}`;
      const ok = a.kind === 'value' && a.value === BigInt(value);
      rows.push({ file, item: cName, schema: valueText(value, hex), headers, verdict: ok ? 'ok' : 'conflict' });
    });
  }

  function checkStruct(file: string, s: StructDef): void {
    const rec = c.records.get(s.cName);
    if (!rec) return absent(file, s.cName, `${s.size} bytes`, s.since);
    const sizeId = ask({ kind: 'size', type: s.cName });
    const newerMembers = new Set<Member>();
    later.push(() => {
      const a = answers[sizeId]!;
      const size = a.kind === 'size' ? a.size : undefined;
      const trimmed = sizeWithout(schema, s, newerMembers);
      const verdict: Verdict = size === s.size ? 'ok' : size === trimmed && newerMembers.size > 0 ? 'newer' : 'conflict';
      const note = verdict === 'newer' ? `${trimmed} bytes without the newer members` : a.kind === 'error' ? a.message : undefined;
      rows.push({ file, item: s.cName, schema: `${s.size} bytes`, headers: size === undefined ? '' : `${size} bytes`, verdict, note });
    });
    for (const m of s.members) {
      const since = m.since ?? s.since;
      const item = memberItem(s.cName, m.cName);
      const cm = rec.members.find((x) => x.name === m.cName);
      if (!cm) {
        if (m.type === 'pad') continue; // unnamed padding in C
        if (newer(since)) newerMembers.add(m);
        absent(file, item, layoutText(schemaLayout(m)), since);
        continue;
      }
      const id = ask({ kind: 'member', type: s.cName, member: cm });
      later.push(() => {
        const a = answers[id]!;
        const mine = schemaLayout(m);
        const ok = a.kind === 'member' && sameLayout(mine, a.layout);
        const headers = a.kind === 'member' ? layoutText(a.layout) : `error: ${a.kind === 'error' ? a.message : a.kind}`;
        rows.push({ file, item, schema: layoutText(mine), headers, verdict: ok ? 'ok' : 'conflict' });
      });
    }
  }

  // The schema's items, file by file.
  const schemaNames = new Set<string>();
  for (const f of schema.files) {
    for (const d of f.definitions) {
      schemaNames.add(d.cName);
      if (d.kind === 'const') checkValue(f.file, d.cName, d.value, d.since, false);
      else if (d.kind === 'struct') checkStruct(f.file, d);
      else {
        const tag = /^enum (\w+)$/.exec(d.cName)?.[1];
        if (tag && c.enums.some((e) => e.tag === tag)) row({ file: f.file, item: d.cName, schema: 'enum', headers: 'enum', verdict: 'ok' });
        else if (tag) absent(f.file, d.cName, 'enum', d.since);
        for (const e of d.entries) {
          schemaNames.add(e.cName);
          checkValue(f.file, e.cName, e.value, e.since ?? d.since, d.kind === 'flags');
        }
      }
    }
    for (const s of f.attributeSets) {
      for (const a of s.attributes) {
        schemaNames.add(a.cName);
        checkValue(f.file, a.cName, a.value, a.since ?? s.since, false);
      }
    }
    for (const e of [...(f.operations?.entries ?? []), ...(f.mcastGroups?.entries ?? [])]) {
      schemaNames.add(e.cName);
      checkValue(f.file, e.cName, e.value, e.since, false);
    }
  }

  // The headers' names the schema lacks.
  for (const scope of coverage) {
    const inScope = (file: string, name: string) =>
      file.endsWith('/' + scope.header) && (!scope.prefixes || scope.prefixes.some((p) => name.startsWith(p)));
    const names = [
      ...[...c.defines.values()].filter((d) => inScope(d.file, d.name) && !d.body.startsWith('"')).map((d) => d.name),
      ...[...c.enumConsts.values()].filter((e) => inScope(e.file, e.name)).map((e) => e.name),
    ];
    const records = [...c.records.values()].filter((r) => r.file.endsWith('/' + scope.header) && (!scope.structs || scope.structs.includes(r.name)));
    if (names.length + records.length === 0) continue; // not in this tree
    const owner = schema.files.find((f) => cHeaders(f).includes(scope.header));
    if (!owner) {
      const items = names.length + records.reduce((n, r) => n + 1 + r.members.length, 0);
      notModelled.push({ header: scope.header, items });
      continue;
    }
    const file = owner.file;
    const isOmitted = (item: string) => {
      const why = omitted.get(item);
      if (why === undefined) return false;
      omittedSeen.add(item);
      row({ file, item, schema: '', headers: 'present', verdict: 'omitted', note: why });
      return true;
    };
    for (const name of names) {
      if (schemaNames.has(name) || isOmitted(name)) continue;
      const id = ask({ kind: 'value', expr: name });
      const block = c.enumConsts.get(name)?.block;
      later.push(() => {
        const a = answers[id]!;
        const value = a.kind === 'value' ? a.value : undefined;
        rows.push({ file, item: name, schema: '', headers: value === undefined ? '?' : String(value), verdict: 'not-in-schema' });
        missing.push({ kind: 'name', file, cName: name, value, enumNames: block === undefined ? undefined : c.enums[block]!.names });
      });
    }
    for (const r of records) {
      const s = [...schema.structs.values()].find((x) => x.cName === r.name);
      if (!s) {
        if (isOmitted(r.name)) continue;
        const sizeId = ask({ kind: 'size', type: r.name });
        const ids = r.members.map((m) => ask({ kind: 'member', type: r.name, member: m }));
        later.push(() => {
          const a = answers[sizeId]!;
          const size = a.kind === 'size' ? a.size : undefined;
          rows.push({ file, item: r.name, schema: '', headers: size === undefined ? '?' : `${size} bytes`, verdict: 'not-in-schema' });
          const members = r.members.map((member, i) => ({ member, layout: layoutOf(answers[ids[i]!]!) }));
          missing.push({ kind: 'record', file, record: r.name, size, members });
        });
        continue;
      }
      r.members.forEach((m, i) => {
        const item = memberItem(r.name, m.name);
        if (s.members.some((x) => x.cName === m.name) || isOmitted(item)) return;
        const id = ask({ kind: 'member', type: r.name, member: m });
        later.push(() => {
          const layout = layoutOf(answers[id]!);
          rows.push({ file, item, schema: '', headers: layout ? layoutText(layout) : '?', verdict: 'not-in-schema' });
          const after = r.members.slice(0, i).reverse().find((p) => s.members.some((x) => x.cName === p.name))?.name;
          missing.push({ kind: 'member', file, record: r.name, member: m, layout, after });
        });
      });
    }
  }
  for (const f of schema.files) {
    for (const o of f.omitted) {
      if (!omittedSeen.has(o.cName)) row({ file: f.file, item: o.cName, schema: '', headers: '', verdict: 'omitted', note: `${o.why} (not in these headers)` });
    }
  }

  answers = runProbes(tree, headers, probes);
  for (const f of later) f();
  return { headerDirs: tree.dirs, version: version?.join('.'), rows, notModelled, missing };
}

function layoutOf(a: Answer): MemberLayout | undefined {
  return a.kind === 'member' ? a.layout : undefined;
}

/** The size of a struct laid out without some of its members (trailing ones that are newer than the headers). */
function sizeWithout(schema: Schema, s: StructDef, drop: Set<Member>): number {
  let end = 0;
  let align = 1;
  for (const m of s.members) {
    if (drop.has(m)) continue;
    end = Math.max(end, m.offset + m.size);
    const a = m.type === 'struct' ? (schema.structs.get(m.struct!)?.align ?? 1) : m.type in intSizes ? m.size / (m.count ?? 1) : 1;
    align = Math.max(align, a);
  }
  return Math.ceil(end / align) * align;
}

/** True when the result has a conflict or a missing name. */
export function failed(result: DiffResult): boolean {
  return result.rows.some((r) => failures.has(r.verdict));
}
