/**
 * The shapes of the library's socket records (InetSocket, UnixSocket and every type
 * they contain), read from the TypeScript sources with ts-morph, as JSON Schema
 * fragments. The schema drift test compares cli/output.schema.json with these, so
 * that a field added to (or removed from) a record shows up as a failing test even
 * when no kernel at hand sends it.
 *
 * Conventions of the JSON output (cli/json.ts): bigint → decimal string
 * (`$defs/Decimal`), Uint8Array → lowercase hex (`$defs/Hex`), nested records →
 * `$ref` to a `$defs` entry named as the TypeScript type.
 */
import { fileURLToPath } from 'node:url';
import { Project, type Node, type Type } from 'ts-morph';

/** A JSON Schema fragment (only the keywords this module produces). */
export type Fragment = Record<string, unknown>;

/** One record type: its properties as fragments, and which are required. */
export interface RecordShape {
  properties: Record<string, Fragment>;
  required: string[];
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The socket records the command prints (`roots`: the members of cli/rows.ts's
 * AnySocket, or InetSocket and UnixSocket where there is no such union) and every
 * record type reachable from them (`shapes`), by TypeScript name.
 */
export function recordShapes(): { roots: string[]; shapes: Map<string, RecordShape> } {
  const project = new Project({
    skipAddingFilesFromTsConfig: true,
    compilerOptions: { strict: true, lib: ['lib.es2023.d.ts', 'lib.esnext.disposable.d.ts'] },
  });
  const types = project.addSourceFileAtPath(`${ROOT}query/types.ts`);
  const rows = project.addSourceFileAtPath(`${ROOT}cli/rows.ts`);
  project.resolveSourceFileDependencies();
  const shapes = new Map<string, RecordShape>();
  const nameOf = (t: Type) => (t.isIntersection() ? t.getAliasSymbol()?.getName() : (t.getSymbol()?.getName() ?? t.getAliasSymbol()?.getName()));

  const fragment = (t: Type, at: Node): Fragment => {
    if (t.isUnion() && !t.isBoolean()) {
      const parts = t.getUnionTypes().filter((u) => !u.isUndefined());
      if (parts.length === 1) return fragment(parts[0]!, at);
      // A union of records (INET_DIAG_INFO: tcp_info, mptcp_info or sctp_info): any of them.
      if (!parts.every((p) => p.isStringLiteral() || p.isTemplateLiteral())) return { anyOf: parts.map((p) => fragment(p, at)) };
      // A union of string literals and template literals (`state-${number}`).
      const literals = parts.filter((p) => p.isStringLiteral()).map((p) => p.getLiteralValue() as string);
      const templates = parts.filter((p) => !p.isStringLiteral()).map((p) => templatePattern(p.getText(at)));
      if (templates.length === 0) return { enum: literals };
      return { anyOf: [{ enum: literals }, ...templates.map((pattern) => ({ type: 'string', pattern }))] };
    }
    if (t.isStringLiteral()) return { const: t.getLiteralValue() };
    // A netlink flag attribute: present (true) or absent.
    if (t.isBooleanLiteral()) return { const: t.getText() === 'true' };
    if (t.isNumber()) return { type: 'integer' };
    if (t.isString()) return { type: 'string' };
    if (t.isBoolean()) return { type: 'boolean' };
    if (t.isBigInt()) return { $ref: '#/$defs/Decimal' };
    if (t.isArray()) return { type: 'array', items: fragment(t.getArrayElementTypeOrThrow(), at) };
    const name = nameOf(t);
    if (name === 'Uint8Array') return { $ref: '#/$defs/Hex' };
    if (t.isObject() && name) {
      describe(t, at, name);
      return { $ref: `#/$defs/${name}` };
    }
    throw new Error(`no JSON form for the type ${t.getText(at)}`);
  };

  const describe = (t: Type, at: Node, name: string): void => {
    if (shapes.has(name)) return;
    const shape: RecordShape = { properties: {}, required: [] };
    shapes.set(name, shape);
    for (const p of t.getProperties()) {
      shape.properties[p.getName()] = fragment(p.getTypeAtLocation(at), at);
      if (!p.isOptional()) shape.required.push(p.getName());
    }
  };

  const roots: string[] = [];
  const any = rows.getTypeAlias('AnySocket');
  if (any) {
    for (const t of any.getType().getUnionTypes()) {
      const name = nameOf(t);
      if (!name) throw new Error(`AnySocket has a member without a name: ${t.getText(any)}`);
      describe(t, any, name);
      roots.push(name);
    }
  } else {
    for (const name of ['InetSocket', 'UnixSocket']) {
      const i = types.getInterfaceOrThrow(name);
      describe(i.getType(), i, name);
      roots.push(name);
    }
  }
  return { roots, shapes };
}

/** `\`state-${number}\`` → `^state-[0-9]+$`. */
function templatePattern(text: string): string {
  if (!text.startsWith('`')) throw new Error(`not a template literal type: ${text}`);
  const body = text.slice(1, -1);
  return `^${body.split('${number}').map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[0-9]+')}$`;
}
