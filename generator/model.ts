/**
 * The resolved schema model: what the loader hands to the emitters. Every item knows
 * its C name, its TypeScript name, its doc text and where it was written.
 */

/** A place in a schema file, 1-based, for error messages. */
export interface Place {
  file: string;
  line: number;
  column: number;
}

/** What every schema item carries. */
export interface Item {
  /** The schema (kebab-case) name. */
  name: string;
  /** The C name, for diffing against kernel headers. */
  cName: string;
  doc?: string;
  /** Kernel version that added the item, when known. */
  since?: string;
  place: Place;
}

export type IntType = 'u8' | 'u16' | 'u32' | 'u64' | 's8' | 's16' | 's32' | 's64';

export interface ConstDef extends Item {
  kind: 'const';
  value: number;
}

export interface EnumEntry extends Item {
  value: number;
}

export interface EnumDef extends Item {
  kind: 'enum' | 'flags';
  entries: EnumEntry[];
}

/** A struct member, with its layout resolved. */
export interface Member extends Item {
  /** Field name in TypeScript (camelCase, member prefix removed); '' for padding. */
  tsName: string;
  type: IntType | 'binary' | 'pad' | 'struct';
  bigEndian: boolean;
  /** Element count of an integer array; undefined for a scalar. */
  count?: number;
  /** Byte offset of the member (of its storage unit, for a bit field). */
  offset: number;
  /** Size in bytes (of the whole array, or of the storage unit of a bit field). */
  size: number;
  /** Bit field: width and shift inside the storage unit. */
  bits?: { width: number; shift: number };
  enum?: string;
  struct?: string;
  hint?: 'hex' | 'ipv4' | 'ipv6' | 'inet-address' | 'cookie';
  /** True when a payload of the struct's min-size always holds this member. */
  required: boolean;
}

export interface StructDef extends Item {
  kind: 'struct';
  tsName: string;
  members: Member[];
  size: number;
  align: number;
  minSize: number;
  /** Name of the member holding the address family of inet-address members. */
  addressFamily?: string;
  /** True when inet-address members (here or nested) need a family from outside. */
  needsFamily: boolean;
}

export type Definition = ConstDef | EnumDef | StructDef;

export type AttrType =
  | 'unused'
  | 'pad'
  | 'flag'
  | IntType
  | 'string'
  | 'binary'
  | 'nest';

export interface Attribute extends Item {
  tsName: string;
  value: number;
  type: AttrType;
  bigEndian: boolean;
  struct?: string;
  subType?: IntType;
  enum?: string;
  nested?: string;
  /** Other structs the payload holds, chosen by a value the caller passes to the decoder. */
  variants?: { selector: string; list: AttributeVariant[] };
}

/** A struct an attribute holds when the decoder's selector has the value of enum entry `when`. */
export interface AttributeVariant {
  when: string;
  /** The selector value (the entry's value), resolved after every file is read. */
  value: number;
  tsName: string;
  struct: string;
  place: Place;
}

export interface AttributeSet extends Item {
  tsName: string;
  attributes: Attribute[];
}

export interface Operation extends Item {
  value: number;
  request?: string;
  reply?: string;
}

export interface Omission {
  cName: string;
  why: string;
  place: Place;
}

/** One schema file, resolved. */
export interface SchemaFile {
  name: string;
  /** File name relative to the schema folder, e.g. `inet_diag.yaml`. */
  file: string;
  /** Module base name of the generated file, e.g. `inet_diag`. */
  module: string;
  cHeader?: string;
  doc?: string;
  definitions: Definition[];
  attributeSets: AttributeSet[];
  operations?: { name: string; entries: Operation[] };
  mcastGroups?: EnumDef;
  omitted: Omission[];
}

/** All schema files, with global name lookups. */
export interface Schema {
  files: SchemaFile[];
  structs: Map<string, StructDef>;
  enums: Map<string, EnumDef>;
  sets: Map<string, AttributeSet>;
  /** Which file (module) defines a global name. */
  owner: Map<string, SchemaFile>;
}
