/**
 * What an emitter needs while writing one generated module: the whole schema, and
 * the imports the module collects as code refers to runtime helpers and to names
 * defined in other schema files.
 */
import type { Item, Schema, SchemaFile } from './model.js';
import { pascal } from './names.js';

export type RefKind = 'struct' | 'decode' | 'write' | 'encode' | 'enum' | 'set' | 'decodeSet' | 'encodeSet' | 'view';

export class ModuleContext {
  /** Runtime helper names used, by runtime module. */
  readonly runtime = new Map<string, Set<string>>();
  /** Imported names that are only types. */
  readonly types = new Set<string>(['UnknownAttribute']);
  /** Names imported from other generated modules, by module. */
  readonly imports = new Map<string, Set<string>>();

  constructor(
    readonly schema: Schema,
    readonly file: SchemaFile,
  ) {}

  /** A runtime helper from `runtime/codec.ts` (or another runtime module). */
  rt(name: string, module = 'codec'): string {
    if (!this.runtime.has(module)) this.runtime.set(module, new Set());
    this.runtime.get(module)!.add(name);
    return name;
  }

  /** A type from a runtime module, imported as a type only. */
  rtType(name: string, module: string): string {
    this.types.add(name);
    return this.rt(name, module);
  }

  /** The TypeScript name for a reference to a schema item, importing it if it lives elsewhere. */
  use(name: string, kind: RefKind): string {
    const ts = pascal(name);
    const id = {
      struct: ts,
      decode: `decode${ts}`,
      write: `write${ts}`,
      encode: `encode${ts}`,
      enum: ts,
      set: ts,
      decodeSet: `decode${ts}`,
      encodeSet: `encode${ts}`,
      view: `${ts}View`,
    }[kind];
    if (kind === 'struct' || kind === 'set' || kind === 'enum') this.types.add(id);
    const owner = this.schema.owner.get(name);
    if (owner && owner !== this.file) {
      if (!this.imports.has(owner.module)) this.imports.set(owner.module, new Set());
      this.imports.get(owner.module)!.add(id);
    }
    return id;
  }

  /** The value of an entry of the `address-family` enum (for inet-address decoding). */
  family(entry: 'inet' | 'inet6'): number {
    return this.enumValue('address-family', entry);
  }

  /** The value of an enum entry or const that the generator itself relies on. */
  enumValue(enumName: string, entry: string): number {
    const e = this.schema.enums.get(enumName)?.entries.find((x) => x.name === entry);
    if (!e) throw new Error(`the generator needs ${enumName}.${entry} in the schema`);
    return e.value;
  }

  constValue(name: string): number {
    for (const f of this.schema.files) {
      for (const d of f.definitions) if (d.kind === 'const' && d.name === name) return d.value;
    }
    throw new Error(`the generator needs the const '${name}' in the schema`);
  }
}

/** TSDoc text for an item: its doc, a note, its `since`, and where the schema defines it. */
export function docLines(item: Item, note?: string): string {
  const parts: string[] = [];
  if (item.doc) parts.push(item.doc.trim().replace(/\*\//g, '*\u200b/'));
  if (note) parts.push(note);
  if (item.since) parts.push(`Since Linux ${item.since}.`);
  parts.push(`Schema: ${item.place.file}:${item.place.line}`);
  return parts.join('\n\n');
}

