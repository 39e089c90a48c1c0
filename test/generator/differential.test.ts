/**
 * Differential test: for every struct of the schema, the fast DataView decoder
 * (generated/<module>.ts) and the independent restructure decoder
 * (generated/reference/<module>.ts) agree on 2,000 random byte strings of the struct's
 * size. Family members are often forced to AF_INET/AF_INET6 so that both address paths
 * are compared, and sometimes left random (the hex path).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSchema } from '../../generator/load.js';
import { freshGeneration, removeSnapshot, schemaSnapshot, type Generation, type Module } from '../helpers/generation.js';
import { structsWithModule } from '../helpers/model-values.js';
import { checkDifferential } from '../helpers/properties.js';

const snapshot = schemaSnapshot();
const schema = loadSchema(snapshot);
const structs = structsWithModule(schema);
const RUNS = 2000;

let gen: Generation;
const fast = new Map<string, Module>();
const reference = new Map<string, Module>();
beforeAll(async () => {
  gen = freshGeneration('differential', snapshot, true);
  for (const f of schema.files) {
    fast.set(f.module, await gen.module(f.module));
    reference.set(f.module, await gen.reference(f.module));
  }
}, 120_000);
afterAll(() => {
  gen?.cleanup();
  removeSnapshot(snapshot);
});

describe('fast decoders agree with the restructure reference decoders', () => {
  it('found structs in the schema', () => expect(structs.length).toBeGreaterThan(0));

  it.each(structs.map(({ s, module }) => [s.name, s, module] as const))(`%s: ${RUNS} random payloads`, (_name, s, module) =>
    checkDifferential(schema, fast.get(module)!, reference.get(module)!, s, RUNS),
  );
});
