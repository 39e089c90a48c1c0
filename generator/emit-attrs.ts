/**
 * Emits an attribute set: an enum-like object of attribute ids, a typed interface of
 * optional fields, a decoder that walks the attributes, and an encoder.
 */
import type { SourceFile } from 'ts-morph';
import { docLines, type ModuleContext } from './emit-context.js';
import { getter, intSize, is64, isInt } from './int-types.js';
import type { Attribute, AttributeSet } from './model.js';


/** Attributes that carry a value (not reserved ids or padding). */
const valued = (s: AttributeSet) => s.attributes.filter((a) => a.type !== 'unused' && a.type !== 'pad');

/** The TypeScript type of an attribute's value; with `views`, structs and nested sets as their views. */
export function attrType(a: Attribute, ctx: ModuleContext, views = false): string {
  if (isInt(a.type)) return is64(a.type) ? 'bigint' : 'number';
  switch (a.type) {
    case 'flag':
      return 'true';
    case 'string':
      return 'string';
    case 'nest':
      return ctx.use(a.nested!, views ? 'view' : 'set');
    default:
      if (a.struct) return ctx.use(a.struct, views ? 'view' : 'struct');
      if (a.subType) return is64(a.subType) ? 'bigint[]' : 'number[]';
      return 'Uint8Array';
  }
}

function decodeStatement(a: Attribute, ctx: ModuleContext): string {
  if (a.variants) {
    // The payload's struct depends on the selector the caller passes (e.g. the protocol).
    const cases = a.variants.list.map((v) => `case ${v.value}: out.${v.tsName} = ${ctx.use(v.struct, 'decode')}(view, p, n); break;`);
    return `switch (selector) { ${cases.join(' ')} default: ${decodeStatement({ ...a, variants: undefined }, ctx)} }`;
  }
  const out = `out.${a.tsName}`;
  if (isInt(a.type)) {
    const size = intSize[a.type];
    const args = size === 1 ? 'p' : `p, ${a.bigEndian ? 'false' : 'LE'}`;
    return `${ctx.rt('needBytes')}('${a.cName}', p, n, ${size}); ${out} = view.${getter[a.type]}(${args});`;
  }
  switch (a.type) {
    case 'flag':
      return `${out} = true;`;
    case 'string':
      return `${out} = ${ctx.rt('readString')}(view, p, n);`;
    case 'nest':
      return `${out} = ${ctx.rt('decodeNested')}('${a.cName}', p, () => ${ctx.use(a.nested!, 'decodeSet')}(view, p, n));`;
    default: {
      if (a.struct) {
        const s = ctx.schema.structs.get(a.struct)!;
        if (s.needsFamily) throw new Error(`${a.place.file}:${a.place.line}: attribute ${a.cName} carries a struct that needs an address family`);
        return `${out} = ${ctx.use(a.struct, 'decode')}(view, p, n);`;
      }
      if (a.subType) {
        const signed = a.subType.startsWith('s') ? ', true' : '';
        if (is64(a.subType)) return `${out} = ${ctx.rt('readBigArray')}(view, p, n${signed});`;
        return `${out} = ${ctx.rt('readArray')}(view, p, n, ${intSize[a.subType]}${signed});`;
      }
      return `${out} = ${ctx.rt('copyBytes')}(view, p, n);`;
    }
  }
}

/** An expression giving the payload bytes of attribute `a` from `v`. */
function encodeExpr(a: Attribute, v: string, ctx: ModuleContext): string {
  if (isInt(a.type)) return `${ctx.rt('encodeInt', 'attributes')}(${v}, ${intSize[a.type]}, ${a.bigEndian})`;
  switch (a.type) {
    case 'flag':
      return 'new Uint8Array(0)';
    case 'string':
      return `${ctx.rt('encodeString')}(${v})`;
    case 'nest':
      return `${ctx.use(a.nested!, 'encodeSet')}(${v})`;
    default:
      if (a.struct) return `${ctx.use(a.struct, 'encode')}(${v})`;
      if (a.subType) return `${ctx.rt('encodeIntArray', 'attributes')}(${v}, ${intSize[a.subType]})`;
      return v;
  }
}

export function emitAttributeSet(sf: SourceFile, s: AttributeSet, ctx: ModuleContext): void {
  const idsName = `${s.tsName}Type`;
  sf.addVariableStatement({
    isExported: true,
    declarationKind: 'const' as never,
    docs: [`Attribute types (ids) of {@link ${s.tsName}}.`],
    declarations: [
      {
        name: idsName,
        initializer: (w) => {
          w.write('Object.freeze({').newLine();
          w.indent(() => s.attributes.forEach((a) => w.writeLine(`/** C: \`${a.cName}\`. */`).writeLine(`'${a.name}': ${a.value},`)));
          w.write('} as const)');
        },
      },
    ],
  });
  sf.addInterface({
    name: s.tsName,
    isExported: true,
    docs: [docLines(s, 'Every field is optional: a kernel sends only what was asked for and what it knows.')],
    properties: [
      ...valued(s).map((a) => ({
        name: a.tsName,
        type: attrType(a, ctx),
        hasQuestionToken: true,
        docs: [docLines(a, `C: \`${a.cName}\` (${a.value}), ${a.type}${a.struct ? ` \`${ctx.schema.structs.get(a.struct)!.cName}\`` : ''}${a.enum ? `; names: {@link ${ctx.use(a.enum, 'enum')}}` : ''}.`)],
      })),
      ...valued(s).flatMap((a) =>
        (a.variants?.list ?? []).map((v) => ({
          name: v.tsName,
          type: ctx.use(v.struct, 'struct'),
          hasQuestionToken: true,
          docs: [`\`${a.cName}\` (${a.value}) when the selector is \`${v.when}\` (${v.value}): \`${ctx.schema.structs.get(v.struct)!.cName}\` instead of \`${a.tsName}\`.`],
        })),
      ),
      { name: 'unknown', type: `${ctx.rt('UnknownAttribute')}[]`, hasQuestionToken: true, docs: ['Attributes whose type this schema does not know, kept as they came.'] },
    ],
  });
  const selectors = [...new Set(s.attributes.flatMap((a) => (a.variants ? [a.variants.selector] : [])))];
  const selectorDoc = selectors.length > 0 ? `\n@param selector - A {@link ${ctx.use(selectors[0]!, 'enum')}} value that picks the struct of attributes with variants.` : '';
  const header = ctx.constValue('nla-hdrlen');
  const align = ctx.constValue('nla-alignto');
  const typeMask = ctx.constValue('nla-type-mask');
  sf.addFunction({
    name: `decode${s.tsName}`,
    isExported: true,
    docs: [
      `Walks the attributes in \`length\` bytes at \`offset\` and stores them in \`out\` (a new object by default). Unknown types are kept in \`unknown\`.` +
        `\n@throws DecodeError when an attribute's length overruns or a payload is too short for its type.${selectorDoc}`,
    ],
    typeParameters: [{ name: 'T', constraint: 'object', default: s.tsName }],
    parameters: [
      { name: 'view', type: 'DataView' },
      { name: 'offset', type: 'number' },
      { name: 'length', type: 'number' },
      { name: 'target', type: 'T', hasQuestionToken: true },
      ...(selectors.length > 0 ? [{ name: 'selector', type: 'number', hasQuestionToken: true }] : []),
    ],
    returnType: `T & ${s.tsName}`,
    statements: (w) => {
      w.writeLine(`const out = (target ?? {}) as T & ${s.tsName};`);
      w.writeLine('const end = offset + length;');
      w.writeLine(`while (end - offset >= ${header}) {`).indent(() => {
        w.writeLine('const len = view.getUint16(offset, LE);');
        w.writeLine(`const type = view.getUint16(offset + 2, LE) & 0x${typeMask.toString(16)};`);
        w.writeLine(`if (len < ${header} || len > end - offset) throw new ${ctx.rt('DecodeError')}('${s.name} attribute ' + type, offset, 'length ' + len + ' with ' + (end - offset) + ' bytes left');`);
        w.writeLine(`const p = offset + ${header};`);
        w.writeLine(`const n = len - ${header};`);
        w.writeLine('switch (type) {').indent(() => {
          for (const a of valued(s)) w.writeLine(`case ${a.value}: ${decodeStatement(a, ctx)} break;`);
          for (const a of s.attributes.filter((x) => x.type === 'pad')) w.writeLine(`case ${a.value}: break;`);
          w.writeLine(`default: (out.unknown ??= []).push({ type, bytes: ${ctx.rt('copyBytes')}(view, p, n) });`);
        });
        w.writeLine('}');
        w.writeLine(`offset += (len + ${align - 1}) & ~${align - 1};`);
      });
      w.writeLine('}');
      w.writeLine('return out;');
    },
  });
  sf.addFunction({
    name: `encode${s.tsName}`,
    isExported: true,
    docs: ['Encodes the fields that are set as netlink attributes, in attribute-id order; `unknown` ones last.'],
    parameters: [{ name: 'value', type: s.tsName }],
    returnType: 'Uint8Array',
    statements: (w) => {
      w.writeLine('const parts: [number, Uint8Array][] = [];');
      for (const a of valued(s)) {
        const v = `value.${a.tsName}`;
        w.writeLine(`if (${v} !== undefined) parts.push([${a.value}, ${encodeExpr(a, v, ctx)}]);`);
      }
      for (const a of valued(s)) {
        for (const v of a.variants?.list ?? []) w.writeLine(`if (value.${v.tsName} !== undefined) parts.push([${a.value}, ${ctx.use(v.struct, 'encode')}(value.${v.tsName})]);`);
      }
      w.writeLine('for (const u of value.unknown ?? []) parts.push([u.type, u.bytes]);');
      w.writeLine(`return ${ctx.rt('encodeAttributes', 'attributes')}(parts);`);
    },
  });
}
