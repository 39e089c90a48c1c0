/**
 * Emits constants, and for each enum or flags set: a frozen object of values, a union
 * type of values, a union of names, and lookups both ways.
 */
import type { SourceFile } from 'ts-morph';
import { docLines } from './emit-context.js';
import type { ConstDef, EnumDef } from './model.js';
import { camel, pascal, upperSnake } from './names.js';

export function emitConst(sf: SourceFile, c: ConstDef): void {
  sf.addVariableStatement({
    isExported: true,
    declarationKind: 'const' as never,
    docs: [docLines(c, `C: \`${c.cName}\`.`)],
    // The C name may be an expression (a cast); the TypeScript name is the item's own.
    declarations: [{ name: upperSnake(c.name), initializer: literal(c.value) }],
  });
}

const literal = (v: number) => (v > 0xfff ? `0x${v.toString(16)}` : String(v));

export function emitEnum(sf: SourceFile, e: EnumDef): void {
  const ts = pascal(e.name);
  const nameType = `${ts}Name`;
  const lookup = camel(e.name);
  const kind = e.kind === 'flags' ? 'Flags' : 'Values';
  sf.addVariableStatement({
    isExported: true,
    declarationKind: 'const' as never,
    docs: [docLines(e, `${kind} by name.${e.cName ? ` C: \`${e.cName}\`.` : ''}`)],
    declarations: [
      {
        name: ts,
        initializer: (w) => {
          w.write('Object.freeze({').newLine();
          w.indent(() => {
            for (const x of e.entries) {
              w.writeLine(`/** ${docLines(x, `C: \`${x.cName}\`.`).replace(/\n\n/g, ' ')} */`);
              w.writeLine(`'${x.name}': ${literal(x.value)},`);
            }
          });
          w.write('} as const)');
        },
      },
    ],
  });
  sf.addTypeAlias({ name: ts, isExported: true, docs: [`A value of {@link ${ts}}.`], type: `(typeof ${ts})[keyof typeof ${ts}]` });
  sf.addTypeAlias({ name: nameType, isExported: true, docs: [`A name of {@link ${ts}}.`], type: `keyof typeof ${ts}` });
  const byValue = `${lookup}ByValue`;
  sf.addVariableStatement({
    declarationKind: 'const' as never,
    declarations: [{ name: byValue, initializer: `new Map<number, ${nameType}>(Object.entries(${ts}).map(([k, v]) => [v, k as ${nameType}]))` }],
  });
  if (e.kind === 'enum') {
    sf.addFunction({
      name: `${lookup}Name`,
      isExported: true,
      docs: [`The name of a {@link ${ts}} value, or undefined for a value the schema does not know.`],
      parameters: [{ name: 'value', type: 'number' }],
      returnType: `${nameType} | undefined`,
      statements: [`return ${byValue}.get(value);`],
    });
  } else {
    sf.addFunction({
      name: `${lookup}Names`,
      isExported: true,
      docs: [`The names of the flags set in \`mask\`; bits the schema does not know are ignored.`],
      parameters: [{ name: 'mask', type: 'number' }],
      returnType: `${nameType}[]`,
      statements: [`const names: ${nameType}[] = [];`, `for (const [v, k] of ${byValue}) if (v !== 0 && (mask & v) === v) names.push(k);`, 'return names;'],
    });
    sf.addFunction({
      name: `${lookup}Mask`,
      isExported: true,
      docs: [`The mask with the named flags set.\n@throws TypeError for a name that is not one of {@link ${ts}}.`],
      parameters: [{ name: 'names', type: `readonly ${nameType}[]` }],
      returnType: 'number',
      statements: (w) => {
        w.writeLine('let mask = 0;');
        w.write('for (const n of names) ').block(() => {
          w.writeLine(`if (!Object.hasOwn(${ts}, n)) throw new TypeError(\`unknown ${e.name} flag \${JSON.stringify(n)} (known: \${Object.keys(${ts}).join(', ')})\`);`);
          w.writeLine(`mask |= ${ts}[n];`);
        });
        w.writeLine('return mask >>> 0;');
      },
    });
  }
  sf.addFunction({
    name: `${lookup}Value`,
    isExported: true,
    docs: [`The value of a {@link ${ts}} name, or undefined for a name the schema does not know.`],
    parameters: [{ name: 'name', type: 'string' }],
    returnType: `${ts} | undefined`,
    statements: [`return Object.hasOwn(${ts}, name) ? ${ts}[name as ${nameType}] : undefined;`],
  });
}
