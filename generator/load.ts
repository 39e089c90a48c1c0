/**
 * Loads every `schema/*.yaml` file, checks it, and resolves it into the model:
 * C names, TypeScript names, struct layouts and cross-file references.
 * All problems are collected and thrown together as a {@link SchemaError}.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type {
  Attribute,
  AttributeSet,
  AttrType,
  ConstDef,
  Definition,
  EnumDef,
  EnumEntry,
  IntType,
  Member,
  Omission,
  Operation,
  Place,
  Schema,
  SchemaFile,
  StructDef,
} from './model.js';
import { camel, declaredNames, pascal, snake, upperSnake } from './names.js';
import { readYaml, SchemaError, SchemaProblem, type Checked, type Shape } from './yaml-check.js';

const common = { name: 'string', doc: 'string', 'c-name': 'string', since: 'string' } as const;
const entryShape: Shape = { either: ['string', { map: { ...common, value: 'int' }, required: ['name'] }] };
const memberShape: Shape = {
  map: {
    ...common,
    type: 'string',
    'byte-order': 'string',
    len: 'int',
    bits: 'int',
    enum: 'string',
    struct: 'string',
    'display-hint': 'string',
    offset: 'int',
  },
  required: ['name', 'type'],
};
const definitionShape: Shape = {
  map: {
    ...common,
    type: 'string',
    value: 'int',
    'name-prefix': 'string',
    'value-start': 'int',
    entries: { list: entryShape },
    'member-prefix': 'string',
    'address-family': 'string',
    size: 'int',
    'min-size': 'int',
    members: { list: memberShape },
  },
  required: ['name', 'type'],
};
const attributeShape: Shape = {
  map: {
    ...common,
    type: 'string',
    value: 'int',
    'byte-order': 'string',
    struct: 'string',
    'sub-type': 'string',
    enum: 'string',
    'nested-attributes': 'string',
    'display-hint': 'string',
    variants: {
      map: { selector: 'string', list: { list: { map: { when: 'string', name: 'string', struct: 'string', doc: 'string' }, required: ['when', 'name', 'struct'] } } },
      required: ['selector', 'list'],
    },
  },
  required: ['name', 'type'],
};
const fileShape: Shape = {
  map: {
    name: 'string',
    'c-header': 'string',
    doc: 'string',
    definitions: { list: definitionShape },
    'attribute-sets': {
      list: {
        map: { ...common, 'name-prefix': 'string', attributes: { list: attributeShape } },
        required: ['name', 'attributes'],
      },
    },
    operations: {
      map: {
        'enum-name': 'string',
        'name-prefix': 'string',
        doc: 'string',
        list: { list: { map: { ...common, value: 'int', request: 'string', reply: 'string' }, required: ['name', 'value'] } },
      },
      required: ['enum-name', 'list'],
    },
    'mcast-groups': {
      map: {
        'enum-name': 'string',
        'name-prefix': 'string',
        doc: 'string',
        list: { list: { map: { ...common, value: 'int' }, required: ['name', 'value'] } },
      },
      required: ['list'],
    },
    omitted: { list: { map: { 'c-name': 'string', why: 'string' }, required: ['c-name', 'why'] } },
  },
  required: ['name', 'doc'],
};

/** The format's rule for attribute ids (schema/README.md): 14 bits, as nla_type without its two flag bits. */
const MAX_ATTRIBUTE_ID = 0x3fff;
/** The largest byte length or element count of a member: a struct is never bigger. */
const MAX_LEN = 0xffff;
const intSizes: Record<IntType, number> = { u8: 1, u16: 2, u32: 4, u64: 8, s8: 1, s16: 2, s32: 4, s64: 8 };
const isInt = (t: string): t is IntType => t in intSizes;
const attrTypes = new Set<string>(['unused', 'pad', 'flag', 'string', 'binary', 'nest', ...Object.keys(intSizes)]);
const hints = new Set(['hex', 'ipv4', 'ipv6', 'inet-address', 'cookie']);

type Raw = Record<string, unknown>;
const str = (r: Raw, k: string) => r[k] as string | undefined;
const num = (r: Raw, k: string) => r[k] as number | undefined;

/** Loads and resolves every schema file in `dir`. Throws {@link SchemaError}. */
export function loadSchema(dir: string): Schema {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => ({ path: join(dir, f), file: f }));
  return loadSchemaFiles(files.map(({ path, file }) => ({ file, text: readFileSync(path, 'utf8') })));
}

/** Loads and resolves schema texts (for tests and tools that work on copies). */
export function loadSchemaFiles(inputs: { file: string; text: string }[]): Schema {
  const problems: SchemaProblem[] = [];
  const checked = inputs.map(({ file, text }) => ({ file, doc: readYaml(file, text, fileShape, problems) }));
  if (problems.length > 0) throw new SchemaError(problems);
  const r = new Resolver(problems);
  const schema = r.resolve(checked.map(({ file, doc }) => ({ file, doc: doc! })));
  if (problems.length > 0) throw new SchemaError(problems);
  return schema;
}

class Resolver {
  private readonly schema: Schema = { files: [], structs: new Map(), enums: new Map(), sets: new Map(), owner: new Map() };
  private readonly rawStructs = new Map<string, { file: SchemaFile; c: Checked }>();
  private readonly structState = new Map<string, 'busy' | 'done'>();
  private readonly globalPlaces = new Map<string, Place>();
  private readonly cNames = new Map<string, Place>();
  /** References to enums, structs and sets, with the place of the value naming them; checked once all files are read. */
  private readonly refs: { kind: 'enum' | 'struct' | 'attribute set'; name: string; place: Place; attribute?: string }[] = [];

  constructor(private readonly problems: SchemaProblem[]) {}

  private ref(kind: 'enum' | 'struct' | 'attribute set', c: Checked, key: string, attribute?: string): void {
    const name = str(c.value as Raw, key);
    if (name !== undefined) this.refs.push({ kind, name, place: c.fields?.[key]?.place ?? c.place, attribute });
  }

  private problem(place: Place, message: string): void {
    this.problems.push(new SchemaProblem(place, message));
  }

  resolve(docs: { file: string; doc: Checked }[]): Schema {
    // First pass: global names, enums, consts and attribute sets, so references resolve in any order.
    for (const { file, doc } of docs) this.schema.files.push(this.readFile(file, doc));
    // Second pass: struct layouts (recursive through nested structs).
    for (const name of this.rawStructs.keys()) this.struct(name);
    for (const f of this.schema.files) {
      f.definitions = f.definitions.map((d) => (d.kind === 'struct' ? this.schema.structs.get(d.name) ?? d : d));
    }
    this.checkReferences();
    this.checkTypeScriptNames();
    this.checkAttributeIds();
    return this.schema;
  }

  /** Attribute ids must fit the type field of struct nlattr without its flag bits (the schema's nla-type-mask). */
  private checkAttributeIds(): void {
    const mask = this.schema.files.flatMap((f) => f.definitions).find((d) => d.kind === 'const' && d.name === 'nla-type-mask');
    const max = mask?.kind === 'const' ? mask.value : MAX_ATTRIBUTE_ID;
    for (const set of this.schema.sets.values()) {
      for (const a of set.attributes) {
        if (a.value < 0 || (max !== undefined && a.value > max)) {
          this.problem(a.place, `attribute '${a.name}' has id ${a.value}, outside 0 to ${max} (the attribute type field, without its flag bits)`);
        }
      }
    }
  }

  /** Two items whose generated TypeScript names collide (generated/index.ts exports every module). */
  private checkTypeScriptNames(): void {
    const taken = new Map<string, { what: string; place: Place }>();
    const seen = new Set<string>();
    for (const f of this.schema.files) {
      const items: { kind: Parameters<typeof declaredNames>[0]; name: string; place: Place; minSize?: boolean }[] = [
        ...f.definitions.map((d) => ({ kind: d.kind, name: d.name, place: d.place, minSize: d.kind === 'struct' && d.minSize !== d.size })),
        ...f.attributeSets.map((a) => ({ kind: 'set' as const, name: a.name, place: a.place })),
        ...(f.operations ? [{ kind: 'enum' as const, name: f.operations.name, place: this.schema.enums.get(f.operations.name)!.place }] : []),
        ...(f.mcastGroups ? [{ kind: 'enum' as const, name: f.mcastGroups.name, place: f.mcastGroups.place }] : []),
      ];
      for (const item of items) {
        // A duplicate schema name is reported as such already.
        if (seen.has(item.name)) continue;
        seen.add(item.name);
        const what = `${item.kind === 'set' ? 'attribute set' : item.kind} '${item.name}'`;
        for (const ts of declaredNames(item.kind, item.name, item.minSize)) {
          const prior = taken.get(ts);
          if (prior && prior.what !== what) {
            this.problem(item.place, `the TypeScript name ${ts} of ${what} is also declared for ${prior.what} (${prior.place.file}:${prior.place.line}:${prior.place.column})`);
          } else taken.set(ts, { what, place: item.place });
        }
      }
    }
  }

  private claim(name: string, place: Place, file: SchemaFile): void {
    const prior = this.globalPlaces.get(name);
    if (prior) this.problem(place, `duplicate name '${name}' (first defined at ${prior.file}:${prior.line}:${prior.column})`);
    else {
      this.globalPlaces.set(name, place);
      this.schema.owner.set(name, file);
    }
  }

  private claimCName(cName: string, place: Place): void {
    const prior = this.cNames.get(cName);
    if (prior) this.problem(place, `duplicate C name '${cName}' (first used at ${prior.file}:${prior.line}:${prior.column})`);
    else this.cNames.set(cName, place);
  }

  private item(c: Checked, cName: string) {
    const r = c.value as Raw;
    const name = str(r, 'name');
    // Names become TypeScript identifiers and object keys: '' and '__proto__' cannot be either.
    if (name !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(name)) {
      this.problem(c.fields?.name?.place ?? c.place, `name ${JSON.stringify(name)} must start with a letter or digit and hold only letters, digits, '-' and '_'`);
    }
    return { name: str(r, 'name')!, cName: str(r, 'c-name') ?? cName, doc: str(r, 'doc'), since: str(r, 'since'), place: c.place };
  }

  private readFile(file: string, doc: Checked): SchemaFile {
    const raw = doc.value as Raw;
    const f: SchemaFile = {
      name: str(raw, 'name')!,
      file,
      module: basename(file, '.yaml'),
      cHeader: str(raw, 'c-header'),
      doc: str(raw, 'doc'),
      definitions: [],
      attributeSets: [],
      omitted: [],
    };
    for (const c of doc.fields?.definitions?.items ?? []) {
      const d = this.readDefinition(c, f);
      if (d) f.definitions.push(d);
    }
    for (const c of doc.fields?.['attribute-sets']?.items ?? []) f.attributeSets.push(this.readSet(c, f));
    const ops = doc.fields?.operations;
    if (ops) {
      const r = ops.value as Raw;
      const prefix = str(r, 'name-prefix') ?? '';
      const entries: Operation[] = (ops.fields?.list?.items ?? []).map((c) => {
        const o = c.value as Raw;
        this.ref('struct', c, 'request');
        this.ref('struct', c, 'reply');
        return { ...this.item(c, prefix + upperSnake(str(o, 'name')!)), value: num(o, 'value')!, request: str(o, 'request'), reply: str(o, 'reply') };
      });
      const name = str(r, 'enum-name')!;
      this.claim(name, ops.place, f);
      this.checkEntries(entries, 'operation');
      entries.forEach((e) => this.claimCName(e.cName, e.place));
      f.operations = { name, entries };
      const asEnum: EnumDef = { kind: 'enum', name, cName: '', doc: str(r, 'doc'), place: ops.place, entries };
      this.schema.enums.set(name, asEnum);
    }
    const groups = doc.fields?.['mcast-groups'];
    if (groups) {
      const r = groups.value as Raw;
      const prefix = str(r, 'name-prefix') ?? '';
      const name = str(r, 'enum-name') ?? `${f.name}-mcast-group`;
      const entries: EnumEntry[] = (groups.fields?.list?.items ?? []).map((c) => ({
        ...this.item(c, prefix + upperSnake(str(c.value as Raw, 'name')!)),
        value: num(c.value as Raw, 'value')!,
      }));
      this.claim(name, groups.place, f);
      this.checkEntries(entries, 'group');
      entries.forEach((e) => this.claimCName(e.cName, e.place));
      f.mcastGroups = { kind: 'enum', name, cName: '', doc: str(r, 'doc'), place: groups.place, entries };
      this.schema.enums.set(name, f.mcastGroups);
    }
    f.omitted = (doc.fields?.omitted?.items ?? []).map((c): Omission => {
      const o = c.value as Raw;
      return { cName: str(o, 'c-name')!, why: str(o, 'why')!, place: c.place };
    });
    return f;
  }

  private checkEntries(entries: { name: string; value: number; place: Place }[], what: string): void {
    const names = new Map<string, Place>();
    const values = new Map<number, string>();
    for (const e of entries) {
      if (names.has(e.name)) this.problem(e.place, `duplicate ${what} name '${e.name}'`);
      names.set(e.name, e.place);
      const prior = values.get(e.value);
      if (prior !== undefined) this.problem(e.place, `duplicate ${what} value ${e.value} ('${e.name}' and '${prior}')`);
      values.set(e.value, e.name);
    }
  }

  private readDefinition(c: Checked, f: SchemaFile): Definition | undefined {
    const r = c.value as Raw;
    const type = str(r, 'type')!;
    const name = str(r, 'name')!;
    const typePlace = c.fields?.type?.place ?? c.place;
    const allowed: Record<string, string[]> = {
      const: ['value'],
      enum: ['name-prefix', 'value-start', 'entries'],
      flags: ['name-prefix', 'value-start', 'entries'],
      struct: ['member-prefix', 'address-family', 'size', 'min-size', 'members'],
    };
    if (!(type in allowed)) {
      this.problem(typePlace, `unknown definition type '${type}' (expected const, enum, flags or struct)`);
      return undefined;
    }
    for (const key of Object.keys(r)) {
      if (!(key in common) && key !== 'type' && !allowed[type]!.includes(key))
        this.problem(c.fields![key]!.place, `key '${key}' does not apply to a ${type}`);
    }
    this.claim(name, c.place, f);
    if (type === 'const') {
      if (r.value === undefined) this.problem(c.place, `const '${name}' lacks 'value'`);
      const d: ConstDef = { kind: 'const', ...this.item(c, upperSnake(name)), value: num(r, 'value') ?? 0 };
      this.claimCName(d.cName, d.place);
      return d;
    }
    if (type === 'enum' || type === 'flags') {
      const prefix = str(r, 'name-prefix') ?? '';
      let next = num(r, 'value-start') ?? 0;
      const entries: EnumEntry[] = (c.fields?.entries?.items ?? []).map((e) => {
        const er: Raw = typeof e.value === 'string' ? { name: e.value } : (e.value as Raw);
        const explicit = num(er, 'value');
        const value = explicit ?? (type === 'flags' ? 2 ** next : next);
        // The generated flag masks are 32-bit.
        if (type === 'flags' && (value < 0 || value > 0xffffffff)) this.problem(e.place, `flag '${String(er.name)}' is ${value}, beyond 32 bits`);
        // After an explicit flag value, go on from the bit above its lowest set bit (a 0 value, "none", has no bits: stay).
        if (explicit === undefined) next += 1;
        else if (type !== 'flags') next = explicit + 1;
        else if (explicit !== 0) next = Math.log2(explicit & -explicit) + 1;
        return { ...this.item({ ...e, value: er }, prefix + upperSnake(str(er, 'name')!)), value };
      });
      if (entries.length === 0) this.problem(c.place, `${type} '${name}' has no entries`);
      this.checkEntries(entries, 'entry');
      entries.forEach((e) => this.claimCName(e.cName, e.place));
      const d: EnumDef = { kind: type, ...this.item(c, ''), entries };
      this.schema.enums.set(name, d);
      return d;
    }
    for (const mc of c.fields?.members?.items ?? []) this.ref('enum', mc, 'enum');
    this.rawStructs.set(name, { file: f, c });
    // A placeholder; replaced by the resolved struct in the second pass.
    return { kind: 'struct', ...this.item(c, `struct ${snake(name)}`), tsName: pascal(name), members: [], size: 0, align: 1, minSize: 0, needsFamily: false };
  }

  /** Resolves a struct's layout, resolving nested structs first. */
  private struct(name: string): StructDef | undefined {
    const done = this.schema.structs.get(name);
    if (done) return done;
    const raw = this.rawStructs.get(name);
    if (!raw) return undefined;
    if (this.structState.get(name) === 'busy') {
      this.problem(raw.c.place, `struct '${name}' contains itself`);
      return undefined;
    }
    this.structState.set(name, 'busy');
    const r = raw.c.value as Raw;
    const prefix = str(r, 'member-prefix') ?? '';
    const members: Member[] = [];
    let offset = 0;
    let bitPos = -1; // bit position inside the current run of bit fields, -1 when none
    let unitEnd = 0; // where the last bit-field storage unit ends
    let align = 1;
    let needsFamily = false;
    const names = new Set<string>();
    for (const mc of raw.c.fields?.members?.items ?? []) {
      const m = mc.value as Raw;
      const mname = str(m, 'name')!;
      const type = str(m, 'type')!;
      const place = mc.place;
      const at = (k: string) => mc.fields?.[k]?.place ?? place;
      if (names.has(mname)) this.problem(place, `duplicate member name '${mname}' in struct '${name}'`);
      names.add(mname);
      const len = num(m, 'len');
      if (len !== undefined && (len < 1 || len > MAX_LEN)) {
        this.problem(at('len'), `len ${len} of member '${mname}' is out of range (1 to ${MAX_LEN})`);
        continue;
      }
      const bits = num(m, 'bits');
      const hint = str(m, 'display-hint');
      const order = str(m, 'byte-order');
      if (order !== undefined && order !== 'big-endian' && order !== 'little-endian')
        this.problem(at('byte-order'), `byte-order must be big-endian or little-endian, not '${order}'`);
      if (hint !== undefined && !hints.has(hint)) this.problem(at('display-hint'), `unknown display-hint '${hint}' (expected ${[...hints].join(', ')})`);
      let size: number;
      let unitAlign: number;
      let nested: StructDef | undefined;
      if (isInt(type)) {
        size = intSizes[type] * (len ?? 1);
        unitAlign = intSizes[type];
      } else if (type === 'binary' || type === 'pad') {
        if (len === undefined) this.problem(place, `member '${mname}' of type ${type} needs 'len'`);
        size = len ?? 0;
        unitAlign = 1;
      } else if (type === 'struct') {
        const sname = str(m, 'struct');
        if (sname === undefined) this.problem(place, `member '${mname}' of type struct needs 'struct'`);
        else if (!this.rawStructs.has(sname)) this.problem(at('struct'), `undefined struct '${sname}'`);
        nested = sname === undefined ? undefined : this.struct(sname);
        size = nested?.size ?? 0;
        unitAlign = nested?.align ?? 1;
        if (nested?.needsFamily && !str(r, 'address-family')) needsFamily = true;
      } else {
        this.problem(at('type'), `unknown member type '${type}' (expected u8..u64, s8..s64, binary, pad or struct)`);
        continue;
      }
      if (bits !== undefined && (!isInt(type) || len !== undefined || bits < 1 || bits > intSizes[type] * 8)) {
        this.problem(at('bits'), `bit field '${mname}' needs an integer type wide enough for ${bits} bits, and no len`);
        continue;
      }
      if (bits !== undefined && intSizes[type as IntType] === 8) {
        this.problem(at('bits'), `bit field '${mname}' is in a 64-bit unit, which the generator does not support; split it over u32 units`);
        continue;
      }
      if (hint === 'inet-address' && !str(r, 'address-family')) needsFamily = true;
      if (hint === 'cookie' && !(type === 'u32' && len === 2)) this.problem(at('display-hint'), `display-hint cookie needs type u32 and len 2`);
      if (hint === 'inet-address' && !(type === 'binary' && len === 16)) this.problem(at('display-hint'), `display-hint inet-address needs type binary and len 16`);
      align = Math.max(align, unitAlign);
      let memberOffset: number;
      let bitInfo: Member['bits'];
      if (bits !== undefined) {
        const unitBits = intSizes[type as IntType] * 8;
        let pos = bitPos >= 0 ? bitPos : offset * 8;
        // GCC: a bit field never straddles a boundary of its declared type.
        if (Math.floor(pos / unitBits) !== Math.floor((pos + bits - 1) / unitBits)) pos = Math.ceil(pos / unitBits) * unitBits;
        const unitStart = Math.floor(pos / unitBits) * unitBits;
        memberOffset = unitStart / 8;
        // The writer writes a bit field's whole unit: no plain member may live inside it.
        if (bitPos < 0 && memberOffset < offset) {
          this.problem(at('bits'), `bit field '${mname}' shares its ${type} storage unit at offset ${memberOffset} with the member before it; declare that member as a bit field of the same unit`);
        }
        unitEnd = Math.max(unitEnd, memberOffset + unitBits / 8);
        bitInfo = { width: bits, shift: pos - unitStart };
        bitPos = pos + bits;
        offset = Math.max(offset, Math.ceil(bitPos / 8));
        const expected = num(m, 'offset');
        if (expected !== undefined && expected !== memberOffset)
          this.problem(at('offset'), `bit field '${mname}' is declared at offset ${expected} but the layout puts its storage unit at ${memberOffset}`);
        size = unitBits / 8;
      } else {
        if (bitPos >= 0) offset = Math.ceil(bitPos / 8);
        bitPos = -1;
        memberOffset = Math.ceil(offset / unitAlign) * unitAlign;
        if (memberOffset < unitEnd) {
          this.problem(place, `member '${mname}' at offset ${memberOffset} lies inside the storage unit of the bit fields before it (which ends at ${unitEnd}); make it a bit field of that unit`);
        }
        const expected = num(m, 'offset');
        if (expected !== undefined && expected % unitAlign !== 0) this.problem(at('offset'), `member '${mname}' at offset ${expected} is misaligned for ${type} (needs a multiple of ${unitAlign})`);
        else if (expected !== undefined && expected < offset) this.problem(at('offset'), `member '${mname}' at offset ${expected} overlaps the member before it (which ends at ${offset})`);
        else if (expected !== undefined && expected !== memberOffset) this.problem(at('offset'), `member '${mname}' is declared at offset ${expected} but the layout puts it at ${memberOffset}`);
        offset = memberOffset + size;
      }
      const enumName = str(m, 'enum');
      const tsBase = mname.startsWith(prefix) ? mname.slice(prefix.length) : mname;
      members.push({
        ...this.item(mc, snake(mname)),
        tsName: type === 'pad' ? '' : camel(tsBase),
        type: type as Member['type'],
        bigEndian: order === 'big-endian',
        count: isInt(type) && len !== undefined ? len : undefined,
        offset: memberOffset,
        size,
        bits: bitInfo,
        enum: enumName,
        struct: str(m, 'struct'),
        hint: hint as Member['hint'],
        required: true,
      });
    }
    if (bitPos >= 0) offset = Math.ceil(bitPos / 8);
    const size = Math.ceil(offset / align) * align;
    const declared = num(r, 'size');
    if (declared !== undefined && declared !== size) this.problem(raw.c.fields?.size?.place ?? raw.c.place, `struct '${name}' is declared as ${declared} bytes but its members lay out to ${size}`);
    const minSize = Math.max(0, num(r, 'min-size') ?? size);
    if ((num(r, 'min-size') ?? 0) < 0) this.problem(raw.c.fields?.['min-size']?.place ?? raw.c.place, `min-size of struct '${name}' is negative`);
    if (minSize > size) this.problem(raw.c.fields?.['min-size']?.place ?? raw.c.place, `min-size ${minSize} of struct '${name}' exceeds its size ${size}`);
    for (const m of members) m.required = m.offset + m.size <= minSize;
    const fam = str(r, 'address-family');
    if (fam !== undefined && !members.some((m) => m.name === fam)) this.problem(raw.c.fields?.['address-family']?.place ?? raw.c.place, `address-family names no member of struct '${name}': '${fam}'`);
    const s: StructDef = {
      kind: 'struct',
      ...this.item(raw.c, `struct ${snake(name)}`),
      tsName: pascal(name),
      members,
      size,
      align,
      minSize,
      addressFamily: fam === undefined ? undefined : camel(fam.startsWith(prefix) ? fam.slice(prefix.length) : fam),
      needsFamily,
    };
    this.claimCName(s.cName, s.place);
    this.schema.structs.set(name, s);
    this.structState.set(name, 'done');
    return s;
  }

  private readSet(c: Checked, f: SchemaFile): AttributeSet {
    const r = c.value as Raw;
    const name = str(r, 'name')!;
    const prefix = str(r, 'name-prefix') ?? '';
    this.claim(name, c.place, f);
    let next = 0;
    const attributes: Attribute[] = (c.fields?.attributes?.items ?? []).map((ac) => {
      const a = ac.value as Raw;
      const type = str(a, 'type')!;
      if (!attrTypes.has(type)) this.problem(ac.fields?.type?.place ?? ac.place, `unknown attribute type '${type}' (expected ${[...attrTypes].join(', ')})`);
      const sub = str(a, 'sub-type');
      if (sub !== undefined && !isInt(sub)) this.problem(ac.fields!['sub-type']!.place, `sub-type must be an integer type, not '${sub}'`);
      if (type === 'nest' && !str(a, 'nested-attributes')) this.problem(ac.place, `nest attribute '${str(a, 'name')}' needs 'nested-attributes'`);
      this.ref('enum', ac, 'enum');
      this.ref('struct', ac, 'struct', str(a, 'name'));
      this.ref('attribute set', ac, 'nested-attributes');
      const value = num(a, 'value') ?? next;
      next = value + 1;
      const attr: Attribute = {
        ...this.item(ac, prefix + upperSnake(str(a, 'name')!)),
        tsName: camel(str(a, 'name')!),
        value,
        type: type as AttrType,
        bigEndian: str(a, 'byte-order') === 'big-endian',
        struct: str(a, 'struct'),
        subType: sub as IntType | undefined,
        enum: str(a, 'enum'),
        nested: str(a, 'nested-attributes'),
        variants: this.readVariants(ac),
      };
      this.claimCName(attr.cName, attr.place);
      return attr;
    });
    this.checkEntries(attributes, 'attribute');
    const set: AttributeSet = { ...this.item(c, ''), tsName: pascal(name), attributes };
    this.schema.sets.set(name, set);
    return set;
  }

  /** An attribute's `variants`: the structs its payload holds for other selector values. */
  private readVariants(ac: Checked): Attribute['variants'] {
    const v = ac.fields?.variants;
    if (!v) return undefined;
    const selector = str(v.value as Raw, 'selector')!;
    this.ref('enum', v, 'selector');
    const list = (v.fields?.list?.items ?? []).map((c) => {
      const x = c.value as Raw;
      this.ref('struct', c, 'struct', str(x, 'name'));
      return { when: str(x, 'when')!, value: -1, tsName: camel(str(x, 'name')!), struct: str(x, 'struct')!, place: c.place };
    });
    return { selector, list };
  }

  /** Gives each variant the value of its selector entry. */
  private resolveVariants(): void {
    for (const set of this.schema.sets.values()) {
      for (const a of set.attributes) {
        for (const v of a.variants?.list ?? []) {
          const entry = this.schema.enums.get(a.variants!.selector)?.entries.find((e) => e.name === v.when);
          if (entry) v.value = entry.value;
          else if (this.schema.enums.has(a.variants!.selector)) this.problem(v.place, `'${v.when}' is no entry of enum '${a.variants!.selector}'`);
        }
      }
    }
  }

  private checkReferences(): void {
    this.resolveVariants();
    const { enums, structs, sets } = this.schema;
    const tables = { enum: enums, struct: structs, 'attribute set': sets } as const;
    for (const r of this.refs) {
      if (!tables[r.kind].has(r.name)) this.problem(r.place, `undefined ${r.kind} '${r.name}'`);
      else if (r.kind === 'struct' && r.attribute !== undefined && structs.get(r.name)!.needsFamily)
        this.problem(r.place, `attribute '${r.attribute}' carries struct '${r.name}', whose inet-address members need an address family (give the struct an address-family member)`);
    }
  }
}
