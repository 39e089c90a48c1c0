/**
 * Emits views: classes whose getters read a struct's members, or an attribute set's
 * attributes, where they lie in a receive buffer, when they are read. A caller that
 * reads a few fields of each of 100,000 sockets skips decoding the rest. Each view
 * checks its lease (runtime/lease.ts) on every read, and `decode()` gives the plain
 * object of the eager decoders.
 */
import { Scope, type SourceFile } from 'ts-morph';
import { docLines, type ModuleContext } from './emit-context.js';
import { decoderName, memberNote, memberType, readExpr } from './emit-struct.js';
import { attrType } from './emit-attrs.js';
import { getter, intSize, is64, isInt } from './int-types.js';
import type { Attribute, AttributeSet, Member, StructDef } from './model.js';

/** Names a view class uses for itself: a member or attribute of the same name would hide them. */
const RESERVED = new Set(['data', 'at', 'byteLength', 'lease', 'addressFamily', 'selector', 'decode', 'toJSON', 'constructor']);

function checkName(name: string, owner: string, place: { file: string; line: number }): void {
  if (RESERVED.has(name)) throw new Error(`${place.file}:${place.line}: ${owner} has a field named '${name}', which its generated view uses for itself`);
}

/** The statement every getter starts with: refuse to read bytes that were reused. */
const leaseCheck = (what: string, ctx: ModuleContext) => `if (!this.lease.live) ${ctx.rt('staleView', 'lease')}('${what}');`;

/** `toJSON()`: JSON.stringify of a view gives that of its decoded value, not the view's own fields. */
const toJSON = (type: string) => ({ name: 'toJSON', returnType: type, docs: ['What JSON.stringify writes for the view: its decoded value.'], statements: ['return this.decode();'] });

/** The type of a struct member as its view returns it: nested structs as views. */
function viewMemberType(m: Member, ctx: ModuleContext): string {
  const t = m.type === 'struct' ? ctx.use(m.struct!, 'view') : memberType(m, ctx);
  return m.required ? t : `${t} | undefined`;
}

/** The expression of a member's value, with `view`, `offset` (and `family`) in scope. */
function viewReadExpr(m: Member, ctx: ModuleContext): string {
  if (m.type !== 'struct') return readExpr(m, ctx);
  const nested = ctx.schema.structs.get(m.struct!)!;
  return `new ${ctx.use(m.struct!, 'view')}(view, offset + ${m.offset}, ${nested.size}, ${nested.needsFamily ? 'family, ' : ''}this.lease)`;
}

/** Emits `<Struct>View`. */
export function emitStructView(sf: SourceFile, s: StructDef, ctx: ModuleContext): void {
  const fields = s.members.filter((m) => m.type !== 'pad');
  for (const m of fields) checkName(m.tsName, s.cName, m.place);
  const familyFrom = s.addressFamily ? readExpr(fields.find((m) => m.tsName === s.addressFamily)!, ctx) : 'this.addressFamily';
  const body = (m: Member, value: string) => {
    const lines = [leaseCheck(s.cName, ctx), 'const view = this.data;', 'const offset = this.at;'];
    if (/\bfamily\b/.test(value)) lines.push(`const family = ${familyFrom};`);
    lines.push(`return ${m.required ? value : `this.byteLength >= ${m.offset + m.size} ? ${value} : undefined`};`);
    return lines;
  };
  sf.addClass({
    name: `${s.tsName}View`,
    isExported: true,
    docs: [
      docLines(
        s,
        `\`${s.cName}\` read where it lies: each getter reads its member when called. A shorter payload (an older kernel) reads later members as undefined. ` +
          `Reading a view after its lease ended throws a StaleViewError; \`decode()\` gives the {@link ${s.tsName}} to keep.`,
      ),
    ],
    ctors: [
      {
        docs: [`@throws DecodeError when fewer than ${s.minSize} bytes are given.`],
        parameters: [
          { name: 'data', type: 'DataView', scope: Scope.Private, isReadonly: true },
          { name: 'at', type: 'number', scope: Scope.Private, isReadonly: true },
          { name: 'byteLength', type: 'number', scope: Scope.Public, isReadonly: true },
          ...(s.needsFamily ? [{ name: 'addressFamily', type: 'number', scope: Scope.Private, isReadonly: true }] : []),
          { name: 'lease', type: ctx.rtType('Lease', 'lease'), scope: Scope.Private, isReadonly: true, initializer: ctx.rt('FOREVER', 'lease') },
        ],
        statements: [`if (byteLength < ${s.minSize}) ${ctx.rt('needBytes')}('${s.cName}', at, byteLength, ${s.minSize});`],
      },
    ],
    getAccessors: [
      ...fields.map((m) => ({
        name: m.tsName,
        returnType: viewMemberType(m, ctx),
        docs: [docLines(m, memberNote(m, ctx))],
        statements: body(m, viewReadExpr(m, ctx)),
      })),
      {
        name: 'extra',
        returnType: 'Uint8Array | undefined',
        docs: ['Bytes past the end of the struct as the schema knows it (sent by a newer kernel), copied.'],
        statements: [leaseCheck(s.cName, ctx), `return this.byteLength > ${s.size} ? ${ctx.rt('copyBytes')}(this.data, this.at + ${s.size}, this.byteLength - ${s.size}) : undefined;`],
      },
    ],
    methods: [
      {
        name: 'decode',
        returnType: s.tsName,
        docs: ['Every member, decoded into a plain object that stays valid.'],
        statements: [leaseCheck(s.cName, ctx), `return ${decoderName(s)}(this.data, this.at, this.byteLength${s.needsFamily ? ', this.addressFamily' : ''});`],
      },
      toJSON(s.tsName),
    ],
  });
}

/** The expression of an attribute's value, its payload at `p` with `n` bytes. */
function attrViewExpr(a: Attribute, struct: string | undefined, ctx: ModuleContext): string {
  if (struct) return `new ${ctx.use(struct, 'view')}(this.data, p, n, this.lease)`;
  if (isInt(a.type)) {
    const args = intSize[a.type] === 1 ? 'p' : `p, ${a.bigEndian ? 'false' : ctx.rt('LE')}`;
    return `(${ctx.rt('needBytes')}('${a.cName}', p, n, ${intSize[a.type]}), this.data.${getter[a.type]}(${args}))`;
  }
  switch (a.type) {
    case 'flag':
      return 'true as const';
    case 'string':
      return `${ctx.rt('readString')}(this.data, p, n)`;
    case 'nest':
      return `new ${ctx.use(a.nested!, 'view')}(this.data, p, n, this.lease)`;
    default: {
      if (a.subType) {
        const signed = a.subType.startsWith('s') ? ', true' : '';
        if (is64(a.subType)) return `${ctx.rt('readBigArray')}(this.data, p, n${signed})`;
        return `${ctx.rt('readArray')}(this.data, p, n, ${intSize[a.subType]}${signed})`;
      }
      return `${ctx.rt('copyBytes')}(this.data, p, n)`;
    }
  }
}

/** Emits `<Set>View`. */
export function emitAttributeSetView(sf: SourceFile, s: AttributeSet, ctx: ModuleContext): void {
  const valued = s.attributes.filter((a) => a.type !== 'unused' && a.type !== 'pad');
  const selectors = [...new Set(s.attributes.flatMap((a) => (a.variants ? [a.variants.selector] : [])))];
  const find = ctx.rt('findAttribute', 'attributes');
  const length = ctx.rt('attributePayloadLength', 'attributes');
  // One getter per attribute, and one per variant of it; `skip` is when the selector picks another struct.
  const getters = valued.flatMap((a) => {
    const variants = a.variants?.list ?? [];
    const base = { name: a.tsName, struct: a.struct, skip: variants.length ? variants.map((v) => `this.selector === ${v.value}`).join(' || ') : undefined, doc: docLines(a, `C: \`${a.cName}\` (${a.value}).`) };
    const others = variants.map((v) => ({ name: v.tsName, struct: v.struct as string | undefined, skip: `this.selector !== ${v.value}`, doc: `\`${a.cName}\` (${a.value}) when the selector is \`${v.when}\` (${v.value}).` }));
    return [base, ...others].map((g) => {
      checkName(g.name, s.name, a.place);
      const lines = [leaseCheck(`${s.name} attributes`, ctx)];
      if (g.skip) lines.push(`if (${g.skip}) return undefined;`);
      lines.push(`const p = ${find}(this.data, this.at, this.byteLength, ${a.value}, '${s.name}');`);
      lines.push('if (p < 0) return undefined;');
      lines.push(`const n = ${length}(this.data, p);`);
      lines.push(`return ${attrViewExpr(a, g.struct, ctx)};`);
      return { name: g.name, returnType: `${attrType({ ...a, struct: g.struct }, ctx, true)} | undefined`, docs: [g.doc], statements: lines };
    });
  });
  const selectorParam = selectors.length ? [{ name: 'selector', type: 'number | undefined', scope: Scope.Private, isReadonly: true, initializer: 'undefined' }] : [];
  sf.addClass({
    name: `${s.tsName}View`,
    isExported: true,
    docs: [
      docLines(
        s,
        `The attributes of {@link ${s.tsName}} read where they lie: each getter finds its attribute when called. ` +
          `Reading a view after its lease ended throws a StaleViewError; \`decode()\` gives the {@link ${s.tsName}} to keep.` +
          (selectors.length ? `\n\nThe selector (a {@link ${ctx.use(selectors[0]!, 'enum')}} value) picks the struct of attributes with variants.` : ''),
      ),
    ],
    ctors: [
      {
        parameters: [
          { name: 'data', type: 'DataView', scope: Scope.Private, isReadonly: true },
          { name: 'at', type: 'number', scope: Scope.Private, isReadonly: true },
          { name: 'byteLength', type: 'number', scope: Scope.Public, isReadonly: true },
          { name: 'lease', type: ctx.rtType('Lease', 'lease'), scope: Scope.Private, isReadonly: true, initializer: ctx.rt('FOREVER', 'lease') },
          ...selectorParam,
        ],
      },
    ],
    getAccessors: getters,
    methods: [
      {
        name: 'decode',
        returnType: s.tsName,
        docs: ['Every attribute, decoded into a plain object that stays valid.'],
        statements: [
          leaseCheck(`${s.name} attributes`, ctx),
          `return ${ctx.use(s.name, 'decodeSet')}(this.data, this.at, this.byteLength${selectors.length ? ', undefined, this.selector' : ''});`,
        ],
      },
      toJSON(s.tsName),
    ],
  });
}
