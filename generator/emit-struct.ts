/**
 * Emits a struct's interface, straight-line DataView decoder, writer and encoder.
 */
import type { SourceFile } from 'ts-morph';
import { docLines, type ModuleContext } from './emit-context.js';
import type { IntType, Member, StructDef } from './model.js';
import { getter, intSize, is64 } from './int-types.js';
import { upperSnake } from './names.js';


/** The TypeScript type of a member's decoded value. */
export function memberType(m: Member, ctx: ModuleContext): string {
  if (m.hint === 'cookie') return 'bigint';
  if (m.hint === 'inet-address' || m.hint === 'ipv4' || m.hint === 'ipv6') return 'string';
  if (m.type === 'binary') return 'Uint8Array';
  if (m.type === 'struct') return ctx.use(m.struct!, 'struct');
  const scalar = is64(m.type) ? 'bigint' : 'number';
  return m.count === undefined ? scalar : `${scalar}[]`;
}

/** Name of the exported size constant of a struct: `tcp-info` → `TCP_INFO_SIZE`. */
export const sizeConst = (s: { name: string }) => `${upperSnake(s.name)}_SIZE`;
export const decoderName = (s: StructDef) => `decode${s.tsName}`;
export const writerName = (s: StructDef) => `write${s.tsName}`;

/** Expression of the address-family bytes count (4, 16 or 0) for inet-address members. */
function familyBytes(ctx: ModuleContext): string {
  return `(family === ${ctx.family('inet')} ? 4 : family === ${ctx.family('inet6')} ? 16 : 0)`;
}

/** The expression that reads a member at `offset + m.offset`. */
export function readExpr(m: Member, ctx: ModuleContext): string {
  const at = `offset + ${m.offset}`;
  const order = m.bigEndian ? 'false' : 'LE';
  if (m.hint === 'cookie') return `${ctx.rt('readCookie')}(view, ${at})`;
  if (m.hint === 'inet-address') return `${ctx.rt('formatInetAddress')}(view, ${at}, ${familyBytes(ctx)})`;
  if (m.hint === 'ipv4') return `${ctx.rt('formatInetAddress')}(view, ${at}, 4)`;
  if (m.hint === 'ipv6') return `${ctx.rt('formatInetAddress')}(view, ${at}, 16)`;
  if (m.type === 'binary') return `${ctx.rt('copyBytes')}(view, ${at}, ${m.size})`;
  if (m.type === 'struct') {
    const nested = ctx.schema.structs.get(m.struct!)!;
    const fam = nested.needsFamily ? ', family' : '';
    return `${ctx.use(m.struct!, 'decode')}(view, ${at}, ${nested.size}${fam})`;
  }
  const t = m.type as IntType;
  const read = (p: string) => (t === 'u8' || t === 's8' ? `view.${getter[t]}(${p})` : `view.${getter[t]}(${p}, ${order})`);
  if (m.bits) {
    const { width, shift } = m.bits;
    const mask = 2 ** width - 1;
    // The storage unit is read unsigned whatever the field's type (a signed read drags the
    // sign bit into the shift), and a field that reaches the unit's top bit needs no mask
    // (`& 0xffffffff` would make a 32-bit field negative).
    const unsigned = t.replace('s', 'u') as IntType;
    const unit = unsigned === 'u8' ? `view.getUint8(${at})` : `view.${getter[unsigned]}(${at}, LE)`;
    const shifted = shift === 0 ? unit : `(${unit} >>> ${shift})`;
    const value = shift + width === intSize[t] * 8 ? shifted : `${shifted} & 0x${mask.toString(16)}`;
    // C sign-extends signed bit fields.
    return t.startsWith('s') ? `((${value}) << ${32 - width}) >> ${32 - width}` : value;
  }
  if (m.count !== undefined) {
    const items = Array.from({ length: m.count }, (_, i) => read(`offset + ${m.offset + i * intSize[t]}`));
    return `[${items.join(', ')}]`;
  }
  return read(at);
}

/** Emits the interface, size constants, decoder, writer and encoder of one struct. */
export function emitStruct(sf: SourceFile, s: StructDef, ctx: ModuleContext): void {
  const fields = s.members.filter((m) => m.type !== 'pad');
  sf.addInterface({
    name: s.tsName,
    isExported: true,
    docs: [docLines(s, `C: \`${s.cName}\`, ${s.size} bytes.`)],
    properties: [
      ...fields.map((m) => ({
        name: m.tsName,
        type: memberType(m, ctx),
        hasQuestionToken: !m.required,
        docs: [docLines(m, memberNote(m, ctx))],
      })),
      {
        name: 'extra',
        type: 'Uint8Array',
        hasQuestionToken: true,
        docs: ['Bytes past the end of the struct as the schema knows it (sent by a newer kernel).'],
      },
    ],
  });
  sf.addVariableStatement({
    isExported: true,
    declarationKind: 'const' as never,
    docs: [`Size in bytes of \`${s.cName}\` as the schema describes it.`],
    declarations: [{ name: sizeConst(s), initializer: String(s.size) }],
  });
  if (s.minSize !== s.size) {
    sf.addVariableStatement({
      isExported: true,
      declarationKind: 'const' as never,
      docs: [`Smallest payload of \`${s.cName}\` any kernel sends; later members are optional.`],
      declarations: [{ name: `${upperSnake(s.name)}_MIN_SIZE`, initializer: String(s.minSize) }],
    });
  }
  const familyParam = s.needsFamily ? [{ name: 'family', type: 'number' }] : [];
  const familyDoc = s.needsFamily ? '\n@param family - Address family deciding how addresses decode.' : '';
  sf.addFunction({
    name: decoderName(s),
    isExported: true,
    docs: [
      `Decodes \`${s.cName}\` from \`length\` bytes at \`offset\`. A shorter payload (an older kernel) leaves the optional members undefined; a longer one keeps its extra bytes.` +
        `\n@throws DecodeError when fewer than ${s.minSize} bytes are given.${familyDoc}`,
    ],
    parameters: [{ name: 'view', type: 'DataView' }, { name: 'offset', type: 'number' }, { name: 'length', type: 'number' }, ...familyParam],
    returnType: s.tsName,
    statements: (w) => {
      w.writeLine(`if (length < ${s.minSize}) ${ctx.rt('needBytes')}('${s.cName}', offset, length, ${s.minSize});`);
      if (s.addressFamily) {
        const fm = s.members.find((m) => m.tsName === s.addressFamily)!;
        w.writeLine(`const family = ${readExpr(fm, ctx)};`);
      }
      // Two literals of the same shape: a whole payload (what a current kernel sends) reads
      // every member without a length test each, which costs much before the JIT has run.
      const literal = (whole: boolean) =>
        w.indent(() => {
          for (const m of fields) {
            const value = m.tsName === s.addressFamily ? 'family' : readExpr(m, ctx);
            w.writeLine(`${m.tsName}: ${m.required || whole ? value : `length >= ${m.offset + m.size} ? ${value} : undefined`},`);
          }
          w.writeLine(whole ? `extra: length > ${s.size} ? ${ctx.rt('copyBytes')}(view, offset + ${s.size}, length - ${s.size}) : undefined,` : 'extra: undefined,');
        });
      if (s.minSize === s.size) {
        w.writeLine('return {');
        literal(true);
        w.writeLine('};');
        return;
      }
      w.writeLine(`if (length >= ${s.size}) return {`);
      literal(true);
      w.writeLine('};');
      w.writeLine('return {');
      literal(false);
      w.writeLine('};');
    },
  });
  sf.addFunction({
    name: writerName(s),
    isExported: true,
    docs: [`Writes \`${s.cName}\` at \`offset\` (${s.size} bytes, then \`extra\` if set). Undefined members stay zero.${familyDoc}`],
    parameters: [{ name: 'value', type: s.tsName }, { name: 'view', type: 'DataView' }, { name: 'offset', type: 'number' }, ...familyParam],
    returnType: 'void',
    statements: (w) => {
      if (s.addressFamily) w.writeLine(`const family = value.${s.addressFamily};`);
      for (const line of writeLines(s, ctx)) w.writeLine(line);
      w.writeLine(`if (value.extra) ${ctx.rt('writeBytes')}(view, offset + ${s.size}, value.extra, value.extra.length);`);
    },
  });
  sf.addFunction({
    name: `encode${s.tsName}`,
    isExported: true,
    docs: [`Encodes \`${s.cName}\` into new bytes.${familyDoc}`],
    parameters: [{ name: 'value', type: s.tsName }, ...familyParam],
    returnType: 'Uint8Array',
    statements: [
      `const bytes = new Uint8Array(${sizeConst(s)} + (value.extra?.length ?? 0));`,
      `${writerName(s)}(value, new DataView(bytes.buffer), 0${s.needsFamily ? ', family' : ''});`,
      'return bytes;',
    ],
  });
}

export function memberNote(m: Member, ctx: ModuleContext): string {
  const bits = m.bits ? `:${m.bits.width}` : '';
  const arr = m.count !== undefined ? `[${m.count}]` : '';
  let note = `C: \`${m.cName}${arr}${bits}\` at byte ${m.offset}`;
  if (m.bigEndian) note += ', network byte order';
  if (m.enum) note += `; values: {@link ${ctx.use(m.enum, 'enum')}}`;
  return note + '.';
}

/** Statements that write every member of `s` (bit fields merged per storage unit). */
function writeLines(s: StructDef, ctx: ModuleContext): string[] {
  const lines: string[] = [];
  const units = new Map<number, { type: IntType; parts: string[] }>();
  for (const m of s.members) {
    if (m.type === 'pad') continue;
    const v = `value.${m.tsName}`;
    const at = `offset + ${m.offset}`;
    const guard = (stmt: string) => (m.required ? stmt : `if (${v} !== undefined) ${stmt}`);
    const order = m.bigEndian ? 'false' : 'LE';
    if (m.bits) {
      const t = m.type as IntType;
      const unit = units.get(m.offset) ?? { type: t, parts: [] };
      const mask = `0x${(2 ** m.bits.width - 1).toString(16)}`;
      unit.parts.push(`((${v}${m.required ? '' : ' ?? 0'}) & ${mask}) << ${m.bits.shift}`);
      units.set(m.offset, unit);
      continue;
    }
    if (m.hint === 'cookie') lines.push(guard(`${ctx.rt('writeCookie')}(view, ${at}, ${v});`));
    else if (m.hint === 'inet-address') lines.push(guard(`${ctx.rt('writeInetAddress')}(view, ${at}, ${v}, ${familyBytes(ctx)});`));
    else if (m.hint === 'ipv4' || m.hint === 'ipv6') lines.push(guard(`${ctx.rt('writeInetAddress')}(view, ${at}, ${v}, ${m.hint === 'ipv4' ? 4 : 16});`));
    else if (m.type === 'binary') lines.push(guard(`${ctx.rt('writeBytes')}(view, ${at}, ${v}, ${m.size});`));
    else if (m.type === 'struct') {
      const nested = ctx.schema.structs.get(m.struct!)!;
      lines.push(guard(`${ctx.use(m.struct!, 'write')}(${v}, view, ${at}${nested.needsFamily ? ', family' : ''});`));
    } else {
      const t = m.type as IntType;
      const set = getter[t].replace('get', 'set');
      const write = (p: string, x: string) => (intSize[t] === 1 ? `view.${set}(${p}, ${x});` : `view.${set}(${p}, ${x}, ${order});`);
      if (m.count === undefined) lines.push(guard(write(at, v)));
      else {
        const each = Array.from({ length: m.count }, (_, i) => write(`offset + ${m.offset + i * intSize[t]}`, `${v}[${i}] ?? ${is64(t) ? '0n' : '0'}`));
        lines.push(m.required ? each.join(' ') : `if (${v} !== undefined) { ${each.join(' ')} }`);
      }
    }
  }
  for (const [offset, unit] of units) {
    const set = getter[unit.type].replace('get', 'set');
    const combined = `(${unit.parts.join(' | ')}) >>> 0`;
    lines.push(intSize[unit.type] === 1 ? `view.${set}(offset + ${offset}, ${combined});` : `view.${set}(offset + ${offset}, ${combined}, LE);`);
  }
  return lines;
}

