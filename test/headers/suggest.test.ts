/**
 * `--suggest` end to end: a header gains an attribute, the suggested stub is pasted
 * into a copy of the schema as printed, the code is generated again, and the new
 * decoder reads a message carrying the new attribute.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { generate } from '../../generator/main.js';
import { encodeAttributes, encodeInt } from '../../runtime/attributes.js';
import { fixtureSchema, haveHeaders, headerTree, removeTrees, repo, runDiff } from '../fixtures/headers/helpers.js';

// Generated code imports ../runtime/*.js, so it has to live one level below the repository.
const out = join(repo, `.tmp-hdr-${process.pid}`);
const schemaDir = mkdtempSync(join(tmpdir(), 'sockdiag-schema-'));

describe.skipIf(!haveHeaders)('schema:diff --suggest', { timeout: 60_000 }, () => {
  afterAll(() => {
    removeTrees();
    rmSync(out, { recursive: true, force: true });
    rmSync(schemaDir, { recursive: true, force: true });
  });

  it('suggests a stub for a new attribute that, pasted into the schema, decodes the attribute', async () => {
    const tree = headerTree({ 'unix_diag.h': [['UNIX_DIAG_UID,', 'UNIX_DIAG_UID,\n\tUNIX_DIAG_FOO,']] });
    cpSync(fixtureSchema, schemaDir, { recursive: true });
    const args = ['--schema', schemaDir, '--headers', tree, '--headers', '/usr/include'];

    const stubs = JSON.parse(runDiff([...args, '--suggest', '--json']).out);
    expect(stubs).toEqual([
      expect.objectContaining({ file: 'unix_diag.yaml', path: ['attribute-sets', 'unix-diag-attrs', 'attributes'], items: [{ name: 'foo', type: 'binary', doc: 'TODO' }] }),
    ]);

    // Paste the printed stub after the last attribute, as a person would.
    const printed = runDiff([...args, '--suggest']);
    expect(printed.code).toBe(1);
    expect(printed.out).toContain('# unix_diag.yaml: append to attribute-sets > unix-diag-attrs > attributes');
    const stub = printed.out.split('\n').filter((l) => !l.startsWith('#')).join('\n').trim();
    const file = join(schemaDir, 'unix_diag.yaml');
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('\n\nomitted:');
    writeFileSync(file, text.replace('\n\nomitted:', `\n      ${stub}\n\nomitted:`));

    expect(runDiff(args).code).toBe(0);

    generate(schemaDir, out);
    const mod = await import(pathToFileURL(join(out, 'unix_diag.ts')).href);
    expect(mod.UnixDiagAttrsType.foo).toBe(8);
    const payload = new Uint8Array([0xde, 0xad, 0xbe, 0xef, 1]);
    const bytes = encodeAttributes([
      [7, encodeInt(1000, 4, false)],
      [8, payload],
    ]);
    const decoded = mod.decodeUnixDiagAttrs(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0, bytes.byteLength);
    expect(decoded.uid).toBe(1000);
    expect(decoded.foo).toEqual(payload);
    expect(decoded.unknown).toBeUndefined();
  });
});
