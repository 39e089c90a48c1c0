/**
 * The generated views (`<Struct>View`, `<Set>View`) read what the eager decoders
 * decode, for every struct and attribute set of the schema: from random bytes of
 * every payload length a kernel may send (shorter ones from older kernels, longer
 * ones from newer), and from random attribute sets with each variant selector. A
 * view whose lease has ended throws instead of reading.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generate } from '../../generator/main.js';
import { DatagramLease } from '../../runtime/lease.js';
import { copySchema, osTempDir, SCHEMA_DIR, snapshotModules } from '../helpers/generation.js';
import { setsWithModule, structsWithModule } from '../helpers/model-values.js';
import { checkAttrSetView, checkStructView } from '../helpers/properties.js';

const { schema, modules } = snapshotModules('views');
const structs = structsWithModule(schema);
const sets = setsWithModule(schema);
const lease = () => new DatagramLease();

describe('struct views read what the decoders decode', () => {
  it('found structs in the schema', () => expect(structs.length).toBeGreaterThan(0));
  it.each(structs.map(({ s, module }) => [s.name, s, module] as const))('%s', (_name, s, module) => checkStructView(schema, modules.get(module)!, s, lease));
});

describe('attribute set views read what the decoders decode', () => {
  it('found attribute sets in the schema', () => expect(sets.length).toBeGreaterThan(0));
  it.each(sets.map(({ set, module }) => [set.name, set, module] as const))('%s', (_name, set, module) => checkAttrSetView(schema, modules.get(module)!, set, lease));
});

describe('names a view keeps for itself', () => {
  it('a member that would hide one stops the generator, naming where it is', () => {
    const dir = osTempDir('views-reserved');
    try {
      copySchema(SCHEMA_DIR, join(dir, 'schema'));
      writeFileSync(
        join(dir, 'schema', 'clash.yaml'),
        ['name: clash', 'doc: A member named like a view field.', 'definitions:', '  - name: clash-struct', '    type: struct', '    members:', '      - {name: lease, type: u32}', ''].join('\n'),
      );
      expect(() => generate(join(dir, 'schema'), join(dir, 'out'))).toThrow("clash.yaml:7: struct clash_struct has a field named 'lease', which its generated view uses for itself");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
