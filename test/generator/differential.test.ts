/**
 * Differential test: for every struct of the schema, the fast DataView decoder
 * (generated/<module>.ts) and the independent restructure decoder
 * (generated/reference/<module>.ts) agree on 2,000 random byte strings of the struct's
 * size. Family members are often forced to AF_INET/AF_INET6 so that both address paths
 * are compared, and sometimes left random (the hex path).
 */
import { describe, expect, it } from 'vitest';
import { snapshotModules } from '../helpers/generation.js';
import { structsWithModule } from '../helpers/model-values.js';
import { checkDifferential } from '../helpers/properties.js';

const { schema, modules: fast, references: reference } = snapshotModules('differential', { references: true });
const structs = structsWithModule(schema);
const RUNS = 2000;

describe('fast decoders agree with the restructure reference decoders', () => {
  it('found structs in the schema', () => expect(structs.length).toBeGreaterThan(0));

  it.each(structs.map(({ s, module }) => [s.name, s, module] as const))(`%s: ${RUNS} random payloads`, (_name, s, module) =>
    checkDifferential(schema, fast.get(module)!, reference.get(module)!, s, RUNS),
  );
});
