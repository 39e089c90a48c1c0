/**
 * `--suggest`: YAML stubs for the header names the schema lacks, grouped by where
 * they go in the schema, ready to paste (and then to document: every stub has
 * `doc: TODO`, and attribute stubs `type: binary` until someone knows better).
 */
import type { Schema } from '../model.js';
import { snake, upperSnake } from '../names.js';
import type { MemberLayout } from './probe.js';
import type { DiffResult, MissingItem } from './diff.js';
import type { CMember } from './cdecl.js';

/** Stubs for one place in one schema file. */
export interface Stub {
  /** The schema file, e.g. `inet_diag.yaml`. */
  file: string;
  /** Where the items go, by key and item name from the top: `['attribute-sets', 'inet-diag-attrs', 'attributes']`. */
  path: string[];
  /** The items as plain data. */
  items: Record<string, unknown>[];
  /** The items as YAML list entries, indented as in the schema files. */
  yaml: string;
  /** Something else to change by hand, such as a struct's size. */
  note?: string;
}

interface Container {
  file: string;
  path: string[];
  kind: 'enum' | 'flags' | 'attrs' | 'list';
  prefix: string;
  entries: { cName: string; value: number }[];
  added: Record<string, unknown>[];
}

const kebab = (c: string) => c.toLowerCase().replace(/_/g, '-');
const plain = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const quote = (v: unknown) =>
  typeof v === 'string' && (!plain.test(v) || /^(yes|no|on|off|true|false|null|y|n)$/i.test(v)) ? JSON.stringify(v) : String(v);
/** A scalar; a string value may end in ` # comment`, which stays a YAML comment. */
const yamlScalar = (v: unknown) => {
  const [value, comment] = typeof v === 'string' ? v.split(' # ') : [v];
  return quote(value) + (comment ? ` # ${comment}` : '');
};
/** The items without the ` # comment`s. */
const clean = (v: unknown): unknown =>
  typeof v === 'string' ? v.split(' # ')[0] : Array.isArray(v) ? v.map(clean) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, clean(x)])) : v;

/** Renders items as YAML list entries at `indent` spaces (the entry's `-`). */
export function yamlItems(items: Record<string, unknown>[], indent: number): string {
  const pad = ' '.repeat(indent);
  const lines: string[] = [];
  const emit = (item: Record<string, unknown>, at: string) => {
    Object.entries(item).forEach(([k, v], i) => {
      const lead = i === 0 ? `${at}- ` : `${at}  `;
      if (Array.isArray(v)) {
        lines.push(`${lead}${k}:`);
        for (const sub of v as Record<string, unknown>[]) emit(sub, `${at}    `);
      } else lines.push(`${lead}${k}: ${yamlScalar(v)}`);
    });
  };
  for (const item of items) emit(item, pad);
  return lines.join('\n') + '\n';
}

function containers(schema: Schema): Container[] {
  const out: Container[] = [];
  const prefixOf = (entries: { name: string; cName: string }[]) => {
    for (const e of entries) if (e.cName.endsWith(upperSnake(e.name))) return e.cName.slice(0, e.cName.length - upperSnake(e.name).length);
    return '';
  };
  for (const f of schema.files) {
    for (const d of f.definitions) {
      if (d.kind === 'enum' || d.kind === 'flags') out.push({ file: f.file, path: ['definitions', d.name, 'entries'], kind: d.kind, prefix: prefixOf(d.entries), entries: d.entries, added: [] });
    }
    for (const s of f.attributeSets) out.push({ file: f.file, path: ['attribute-sets', s.name, 'attributes'], kind: 'attrs', prefix: prefixOf(s.attributes), entries: s.attributes, added: [] });
    if (f.operations) out.push({ file: f.file, path: ['operations', 'list'], kind: 'list', prefix: prefixOf(f.operations.entries), entries: f.operations.entries, added: [] });
    if (f.mcastGroups) out.push({ file: f.file, path: ['mcast-groups', 'list'], kind: 'list', prefix: prefixOf(f.mcastGroups.entries), entries: f.mcastGroups.entries, added: [] });
  }
  return out;
}

/** The value the loader gives an entry appended after one with value `last`. */
function nextValue(kind: Container['kind'], last: number | undefined): number {
  if (last === undefined) return kind === 'flags' ? 1 : 0;
  return kind === 'flags' ? 2 ** (Math.log2(last & -last) + 1) : last + 1;
}

function memberStub(m: CMember, l: MemberLayout | undefined): Record<string, unknown> {
  const item: Record<string, unknown> = { name: kebab(m.name) };
  if (snake(kebab(m.name)) !== m.name) item['c-name'] = m.name;
  const int = (bytes: number, signed?: boolean) => `${signed ? 's' : 'u'}${bytes * 8}`;
  if (!l) item.type = 'binary # TODO: type and len';
  else if (l.bitField) Object.assign(item, { type: int(l.unit ?? 4, l.signed), bits: l.bitWidth });
  else {
    const size = l.bitWidth / 8;
    if (m.record) Object.assign(item, { type: 'struct', struct: kebab(m.type.replace(/^(struct|union) /, '')) });
    else if (l.unit && [1, 2, 4, 8].includes(l.unit)) Object.assign(item, { type: int(l.unit, l.signed), len: size / l.unit });
    else if ([1, 2, 4, 8].includes(size) && m.dims === 0) item.type = int(size, l.signed);
    else Object.assign(item, { type: 'binary', len: size });
    item.offset = l.bitStart / 8;
  }
  item.doc = 'TODO';
  return item;
}

/** Builds the stubs for everything in `result.missing`. */
export function suggest(schema: Schema, result: DiffResult): Stub[] {
  const all = containers(schema);
  const stubs = new Map<string, Stub & { indent: number }>();
  const add = (file: string, path: string[], indent: number, item: Record<string, unknown>, note?: string) => {
    const key = [file, ...path].join('\0');
    const s = stubs.get(key) ?? { file, path, items: [], yaml: '', indent };
    s.items.push(item);
    if (note && !s.note) s.note = note;
    stubs.set(key, s);
  };
  const newEnums = new Map<string, { file: string; names: { cName: string; value: number }[] }>();
  const names = result.missing.filter((m): m is Extract<MissingItem, { kind: 'name' }> => m.kind === 'name');
  names.sort((a, b) => Number((a.value ?? 0n) - (b.value ?? 0n)));
  for (const m of names) {
    const value = Number(m.value ?? 0);
    const siblings = new Set(m.enumNames ?? []);
    const home =
      all.find((c) => c.entries.some((e) => siblings.has(e.cName))) ??
      all.filter((c) => c.prefix && m.cName.startsWith(c.prefix)).sort((a, b) => b.prefix.length - a.prefix.length)[0];
    if (home) {
      const rest = m.cName.slice(home.prefix.length);
      const item: Record<string, unknown> = { name: kebab(rest) };
      if (upperSnake(kebab(rest)) !== rest) item['c-name'] = m.cName;
      if (home.kind === 'attrs') item.type = 'binary # TODO: the payload type';
      const last = home.added.length > 0 ? (home.added.at(-1)!.value as number) : home.entries.at(-1)?.value;
      if (home.kind === 'list' || nextValue(home.kind, last) !== value) item.value = value;
      item.doc = 'TODO';
      home.added.push({ ...item, value });
      add(home.file, home.path, home.path.length === 2 ? 4 : 6, item);
    } else if (m.enumNames) {
      const key = m.enumNames.join(',');
      const e = newEnums.get(key) ?? { file: m.file, names: [] };
      e.names.push({ cName: m.cName, value });
      newEnums.set(key, e);
    } else {
      const item: Record<string, unknown> = { name: kebab(m.cName), type: 'const', value, doc: 'TODO' };
      if (upperSnake(kebab(m.cName)) !== m.cName) item['c-name'] = m.cName;
      add(m.file, ['definitions'], 2, item);
    }
  }
  for (const { file, names: entries } of newEnums.values()) {
    let prefix = entries[0]!.cName;
    for (const { cName } of entries) while (!cName.startsWith(prefix)) prefix = prefix.slice(0, -1);
    prefix = prefix.slice(0, prefix.lastIndexOf('_') + 1);
    let next = 0;
    const list = entries.map(({ cName, value }) => {
      const rest = cName.slice(prefix.length);
      const item: Record<string, unknown> = { name: kebab(rest) };
      if (upperSnake(kebab(rest)) !== rest) item['c-name'] = cName;
      if (value !== next) item.value = value;
      next = value + 1;
      return item;
    });
    add(file, ['definitions'], 2, { name: kebab(prefix.replace(/_$/, '')) || 'todo', type: 'enum', 'name-prefix': prefix, doc: 'TODO', entries: list });
  }
  for (const m of result.missing) {
    if (m.kind === 'member') {
      const s = [...schema.structs.values()].find((x) => x.cName === m.record)!;
      const size = result.rows.find((r) => r.item === m.record)?.headers;
      const note = `check the size of ${m.record} (headers: ${size})`;
      if (m.member.flexible) add(m.file, ['omitted'], 2, { 'c-name': `${m.record}.${m.member.name}`, why: 'TODO (a flexible array member)' });
      else add(m.file, ['definitions', s.name, 'members'], 6, memberStub(m.member, m.layout), m.after ? `${note}; the new members go after ${kebab(m.after)}` : note);
    } else if (m.kind === 'record') {
      if (m.record.startsWith('union ')) {
        add(m.file, ['omitted'], 2, { 'c-name': m.record, why: 'TODO (a union)' });
        continue;
      }
      const tag = m.record.replace(/^struct /, '');
      const members = m.members.filter((x) => !x.member.flexible).map((x) => memberStub(x.member, x.layout));
      const item: Record<string, unknown> = { name: kebab(tag), type: 'struct', size: m.size ?? 0, doc: 'TODO', members };
      add(m.file, ['definitions'], 2, item);
      for (const x of m.members.filter((y) => y.member.flexible)) add(m.file, ['omitted'], 2, { 'c-name': `${m.record}.${x.member.name}`, why: 'TODO (a flexible array member)' });
    }
  }
  return [...stubs.values()].map(({ indent, ...s }) => ({ ...s, items: s.items.map((i) => clean(i) as Record<string, unknown>), yaml: yamlItems(s.items, indent) }));
}

/** The stubs as text for the terminal: a comment saying where, then the YAML. */
export function formatStubs(stubs: Stub[]): string {
  if (stubs.length === 0) return '# nothing to suggest: the schema has every header name\n';
  return stubs
    .map((s) => `# ${s.file}: append to ${s.path.join(' > ')}${s.note ? `\n# ${s.note}` : ''}\n${s.yaml}`)
    .join('\n');
}
