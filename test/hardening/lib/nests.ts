/**
 * Deeply nested netlink attributes, built along the schema's nest graph: each level
 * is the nest attribute of the current set that leads deepest, and past the last
 * nest the schema knows, an attribute type the set does not know (with NLA_F_NESTED
 * set, as the kernel sends nests), so the chain goes on as opaque nested bytes.
 */
import type { AttributeSet, Schema } from '../../../generator/model.js';

const NLA_F_NESTED = 0x8000;
/** Attribute lengths are 16 bits: the deepest nest that fits one attribute. */
export const MAX_NEST_DEPTH = Math.floor((0xffff - 8) / 4);

/** The nest attributes of a set, with the sets they lead to. */
function nests(schema: Schema, set: AttributeSet) {
  return set.attributes.filter((a) => a.type === 'nest' && a.nested && schema.sets.has(a.nested)).map((a) => ({ attr: a, set: schema.sets.get(a.nested!)! }));
}

/** How many levels of schema-known nesting start at `set` (Infinity when it reaches a cycle). */
export function schemaNestDepth(schema: Schema, set: AttributeSet, seen: Set<string> = new Set()): number {
  if (seen.has(set.name)) return Infinity;
  const next = nests(schema, set);
  if (next.length === 0) return 0;
  const inner = new Set(seen).add(set.name);
  return 1 + Math.max(...next.map((n) => schemaNestDepth(schema, n.set, inner)));
}

/** Sets that nest into themselves, directly or through others. */
export function recursiveSets(schema: Schema): string[] {
  return [...schema.sets.values()].filter((s) => schemaNestDepth(schema, s) === Infinity).map((s) => s.name);
}

/** An id `set` does not use (for the levels past the schema's nesting). */
function unknownId(set: AttributeSet | undefined): number {
  const used = new Set(set?.attributes.map((a) => a.value) ?? []);
  let id = 1;
  while (used.has(id)) id++;
  return id;
}

/**
 * The attribute bytes (as `set` would be walked) of a chain `depth` nests deep ending
 * in a u32 attribute holding 42. Returns the bytes and the attribute names along the
 * schema-known part of the chain.
 */
export function deepNest(schema: Schema, set: AttributeSet, depth: number): { bytes: Uint8Array; path: string[] } {
  if (depth > MAX_NEST_DEPTH) throw new RangeError(`at most ${MAX_NEST_DEPTH} levels fit a 16-bit attribute length`);
  const types: number[] = [];
  const path: string[] = [];
  let current: AttributeSet | undefined = set;
  for (let i = 0; i < depth; i++) {
    const options: ReturnType<typeof nests> = current ? nests(schema, current) : [];
    if (options.length) {
      // The nest that leads deepest, so the chain stays inside the schema as long as it can.
      const best: (typeof options)[number] = options.reduce((a, b) => (schemaNestDepth(schema, b.set) > schemaNestDepth(schema, a.set) ? b : a));
      types.push(best.attr.value | NLA_F_NESTED);
      path.push(best.attr.name);
      current = best.set;
    } else {
      types.push(unknownId(current) | NLA_F_NESTED);
      current = undefined;
    }
  }
  const total = 4 * depth + 8;
  const bytes = new Uint8Array(total);
  const v = new DataView(bytes.buffer);
  for (let i = 0; i < depth; i++) {
    v.setUint16(4 * i, total - 4 * i, true);
    v.setUint16(4 * i + 2, types[i]!, true);
  }
  v.setUint16(4 * depth, 8, true);
  v.setUint16(4 * depth + 2, unknownId(current), true);
  v.setUint32(4 * depth + 4, 42, true);
  return { bytes, path };
}
