/**
 * Emits `generated/reference/<module>.ts`: an independent decoder for every struct,
 * built on `restructure` instead of hand-computed DataView offsets. It is slow and
 * only used by the differential tests, which check that both decoders agree.
 */
import type { Project } from 'ts-morph';
import { banner } from './emit-module.js';
import type { IntType, Member, Schema, SchemaFile, StructDef } from './model.js';
import { camel } from './names.js';

const rType: Record<IntType, string> = {
  u8: 'r.uint8', u16: 'r.uint16', u32: 'r.uint32', u64: '', s8: 'r.int8', s16: 'r.int16', s32: 'r.int32', s64: '',
};

/** The restructure type of a member's storage (a bit field's whole unit). */
function fieldType(m: Member): string {
  // A bit-field unit is read unsigned; convert() extracts and sign-extends the field.
  const t = m.bits ? (m.type.replace('s', 'u') as Member['type']) : m.type;
  if (t === 'binary' || t === 'pad') return `new r.Buffer(${m.size})`;
  if (t === 'struct') return `${camel(m.struct!)}Raw`;
  const endian = t === 'u8' || t === 's8' ? '' : m.bigEndian ? 'be' : 'le';
  const words = t === 'u64' || t === 's64' ? `new r.Array(r.uint32${m.bigEndian ? 'be' : 'le'}, 2)` : `${rType[t]}${endian}`;
  if (m.count === undefined || m.bits) return words;
  return `new r.Array(${words}, ${m.count})`;
}

/** The expression converting a raw field to the fast decoder's value. */
function convert(m: Member, raw: string, schema: Schema): string {
  const wide = (x: string) =>
    m.bigEndian ? `((BigInt(${x}[0]) << 32n) | BigInt(${x}[1]))` : `((BigInt(${x}[1]) << 32n) | BigInt(${x}[0]))`;
  const signed = (x: string) => (m.type === 's64' ? `BigInt.asIntN(64, ${x})` : x);
  if (m.hint === 'cookie') return `((BigInt(${raw}[1]) << 32n) | BigInt(${raw}[0]))`;
  if (m.hint === 'inet-address') return `referenceAddress(${raw}, family)`;
  if (m.hint === 'ipv4' || m.hint === 'ipv6') return `referenceAddress(${raw}, ${m.hint === 'ipv4' ? 'AF4' : 'AF6'})`;
  if (m.type === 'binary') return `new Uint8Array(${raw})`;
  if (m.type === 'struct') {
    const nested = schema.structs.get(m.struct!)!;
    return `convert${nested.tsName}(${raw}${nested.needsFamily ? ', family' : ''})`;
  }
  if (m.bits) {
    const { shift, width } = m.bits;
    // `& 0xffffffff` would make a 32-bit field negative; `>>> 0` keeps it unsigned.
    const field = width === 32 ? `(${raw} >>> 0)` : `((${raw} >>> ${shift}) & ${2 ** width - 1})`;
    return m.type.startsWith('s') ? `((${field} << ${32 - width}) >> ${32 - width})` : field;
  }
  if (m.type === 'u64' || m.type === 's64') {
    return m.count === undefined ? signed(wide(raw)) : `${raw}.map((w: [number, number]) => ${signed(wide('w'))})`;
  }
  return raw;
}

export function emitReference(project: Project, schema: Schema, file: SchemaFile): string {
  const structs = file.definitions.filter((d): d is StructDef => d.kind === 'struct');
  const sf = project.createSourceFile(`reference/${file.module}.ts`, '', { overwrite: true });
  const imports = new Set<string>();
  const needsAddress = structs.some((s) => s.members.some((m) => m.hint === 'inet-address' || m.hint === 'ipv4' || m.hint === 'ipv6'));
  for (const s of structs) {
    // The raw layout: every member at its offset, gaps as reserved bytes, one field per bit-field unit.
    const fields: string[] = [];
    let at = 0;
    const seenUnits = new Set<number>();
    for (const m of s.members) {
      if (m.bits && seenUnits.has(m.offset)) continue;
      if (m.offset > at) fields.push(`gap${at}: new r.Reserved(r.uint8, ${m.offset - at}),`);
      if (m.bits) seenUnits.add(m.offset);
      fields.push(`m${m.offset}: ${fieldType(m)},`);
      at = m.offset + m.size;
    }
    if (s.size > at) fields.push(`gap${at}: new r.Reserved(r.uint8, ${s.size - at}),`);
    sf.addStatements(`const ${camel(s.name)}Raw = new r.Struct({\n${fields.join('\n')}\n});`);
    for (const m of s.members) {
      const other = m.struct ? schema.owner.get(m.struct) : undefined;
      if (other && other !== file) imports.add(`${other.module}|convert${schema.structs.get(m.struct!)!.tsName}|${camel(m.struct!)}Raw`);
    }
    const fam = s.needsFamily ? ', family: number' : '';
    const famLocal = s.addressFamily ? `const family = raw.m${s.members.find((m) => m.tsName === s.addressFamily)!.offset};\n` : '';
    const body = s.members
      .filter((m) => m.type !== 'pad')
      .map((m) => `${m.tsName}: ${convert(m, `raw.m${m.offset}`, schema)},`)
      .join('\n');
    sf.addStatements(
      `/** Converts restructure's raw \`${s.cName}\` to the shape the fast decoder returns. */\n` +
        `export function convert${s.tsName}(raw: any${fam}): ${s.tsName} {\n${famLocal}return {\n${body}\nextra: undefined,\n};\n}`,
    );
    sf.addStatements(
      `/** Decodes a whole \`${s.cName}\` with restructure. */\n` +
        `export function referenceDecode${s.tsName}(bytes: Uint8Array${fam}): ${s.tsName} {\n` +
        `return convert${s.tsName}(${camel(s.name)}Raw.fromBuffer(bytes)${s.needsFamily ? ', family' : ''});\n}`,
    );
    sf.addStatements(`export { ${camel(s.name)}Raw };`);
  }
  const typeNames = structs.map((s) => s.tsName);
  const head: string[] = [
    '/* eslint-disable @typescript-eslint/no-explicit-any */',
    `/** Reference (restructure) decoders for the structs of schema/${file.file}; for differential tests only. */`,
    "import * as r from 'restructure';",
  ];
  if (typeNames.length > 0) head.push(`import type { ${typeNames.sort().join(', ')} } from '../${file.module}.js';`);
  const byModule = new Map<string, Set<string>>();
  for (const i of imports) {
    const [module, fn, rawName] = i.split('|') as [string, string, string];
    if (!byModule.has(module)) byModule.set(module, new Set());
    byModule.get(module)!.add(fn).add(rawName);
  }
  for (const [module, names] of [...byModule].sort()) head.push(`import { ${[...names].sort().join(', ')} } from './${module}.js';`);
  if (needsAddress) {
    const used = ['AF4', 'AF6'].filter((n) => new RegExp(`\\b${n}\\b`).test(sf.getFullText()));
    head.push(`import { ${[...used, 'referenceAddress'].join(', ')} } from './${ADDRESS_MODULE}.js';`);
  }
  return banner(`schema/${file.file}`) + head.join('\n') + '\n\n' + sf.getFullText();
}

/** The module, beside the reference decoders, that formats addresses for all of them. */
export const ADDRESS_MODULE = 'inet-address';

/**
 * Emits `generated/reference/inet-address.ts` (undefined when the schema has no
 * `address-family` enum): address text through the URL parser,
 * an implementation independent of runtime/codec.ts, with the families of the
 * schema's `address-family` enum.
 */
export function emitReferenceAddress(schema: Schema): string | undefined {
  const af = schema.enums.get('address-family');
  const v = (n: string) => af?.entries.find((e) => e.name === n)?.value;
  // A schema without the families has no address members to format.
  if (v('inet') === undefined || v('inet6') === undefined) return undefined;
  return (
    banner('the address-family enum of schema/') +
    [
      '/** Address text for the reference decoders; for differential tests only. */',
      "import { isIPv4 } from 'node:net';",
      '',
      `export const AF4 = ${v('inet')};`,
      `export const AF6 = ${v('inet6')};`,
      '',
      '/** IPv4 or IPv6 text of network-order bytes by family; hex for other families. */',
      'export function referenceAddress(bytes: Uint8Array, family: number): string {',
      "  if (family === AF4) return Array.from(bytes.subarray(0, 4)).join('.');",
      "  if (family !== AF6) return Buffer.from(bytes).toString('hex');",
      '  const words = Array.from({ length: 8 }, (_, i) => (bytes[2 * i]! << 8) | bytes[2 * i + 1]!);',
      "  const v4 = `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;",
      "  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) return `::ffff:${v4}`;",
      "  if (words.slice(0, 6).every((w) => w === 0) && words[6] !== 0 && isIPv4(v4)) return `::${v4}`;",
      "  return new URL(`http://[${words.map((w) => w.toString(16)).join(':')}]/`).hostname.slice(1, -1);",
      '}',
      '',
    ].join('\n')
  );
}
