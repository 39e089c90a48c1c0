/**
 * `npm run schema:diff` against edited copies of the installed headers: each kind of
 * drift (a changed value, a new attribute, a grown struct, a removed member, a moved
 * bit field, a changed signedness, an item newer than the headers) gets its verdict,
 * and the exit code follows.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { diffSchema, type DiffRow } from '../../generator/headers/diff.js';
import { loadSchema } from '../../generator/load.js';
import { fixtureSchema, haveHeaders, headerTree, removeTrees, repo, runDiff } from '../fixtures/headers/helpers.js';

const diff = (tree: string) => diffSchema(loadSchema(fixtureSchema), { dirs: [tree, '/usr/include'] });
const find = (rows: DiffRow[], item: string) => {
  const r = rows.find((x) => x.item === item);
  if (!r) throw new Error(`no row for ${item}`);
  return r;
};

describe.skipIf(!haveHeaders)('schema:diff', { timeout: 60_000 }, () => {
  afterAll(removeTrees);

  it('agrees with an unchanged copy of the headers, and exits 0', () => {
    const tree = headerTree();
    const result = diff(tree);
    expect(result.rows.filter((r) => r.verdict !== 'ok' && r.verdict !== 'omitted')).toEqual([]);
    expect(find(result.rows, 'UNIX_DIAG_UID')).toMatchObject({ schema: '7', headers: '7', verdict: 'ok' });
    expect(find(result.rows, 'struct inet_diag_sockopt.unused')).toMatchObject({ headers: 'offset 1, bits 3..7', verdict: 'ok' });
    expect(find(result.rows, 'UNIX_DIAG_MAX')).toMatchObject({ verdict: 'omitted' });
    // Headers with no schema file are listed apart, not failures.
    expect(result.notModelled.map((n) => n.header)).toContain('linux/inet_diag.h');
    expect(result.version).toMatch(/^\d+\.\d+$/);
    expect(runDiff(['--schema', fixtureSchema, '--headers', tree, '--headers', '/usr/include']).code).toBe(0);
  });

  it('reports a changed value, a new attribute, a grown struct and a removed member, and exits 1', () => {
    const tree = headerTree({
      'unix_diag.h': [
        [/(#define UDIAG_SHOW_UID\s+)0x00000040/, '$10x00000080'],
        ['UNIX_DIAG_UID,', 'UNIX_DIAG_UID,\n\tUNIX_DIAG_FOO,'],
        ['__u32\tudiag_vfs_dev;', '__u32\tudiag_vfs_dev;\n\t__u32\tudiag_vfs_extra;'],
        [/(udiag_state;\n)\t__u8\tpad;\n/, '$1'],
      ],
      'inet_diag.h': [
        ['freebind:1', 'freebind:2'],
        [/\tint\tport;/, '\t__u32\tport;'],
      ],
    });
    const { rows } = diff(tree);
    expect(find(rows, 'UDIAG_SHOW_UID')).toMatchObject({ schema: '0x40', headers: '0x80', verdict: 'conflict' });
    expect(find(rows, 'UNIX_DIAG_FOO')).toMatchObject({ schema: '', headers: '8', verdict: 'not-in-schema' });
    expect(find(rows, 'struct unix_diag_vfs')).toMatchObject({ schema: '8 bytes', headers: '12 bytes', verdict: 'conflict' });
    expect(find(rows, 'struct unix_diag_vfs.udiag_vfs_extra')).toMatchObject({ headers: 'offset 8, 4 bytes', verdict: 'not-in-schema' });
    expect(find(rows, 'struct unix_diag_msg.pad')).toMatchObject({ schema: 'offset 3, 1 byte', headers: '', verdict: 'not-in-headers' });
    expect(find(rows, 'struct unix_diag_msg')).toMatchObject({ verdict: 'ok' }); // the padding is still there
    expect(find(rows, 'struct inet_diag_sockopt.freebind')).toMatchObject({ schema: 'offset 0, bit 2', headers: 'offset 0, bits 2..3', verdict: 'conflict' });
    expect(find(rows, 'struct inet_diag_sockopt.hdrincl')).toMatchObject({ headers: 'offset 0, bit 4', verdict: 'conflict' });
    expect(find(rows, 'struct inet_diag_hostcond.port')).toMatchObject({ schema: 'offset 4, 4 bytes, signed', headers: 'offset 4, 4 bytes', verdict: 'conflict' });
    expect(find(rows, 'UNIX_DIAG_UID')).toMatchObject({ verdict: 'ok' });

    const { code, out } = runDiff(['--schema', fixtureSchema, '--headers', tree, '--headers', '/usr/include']);
    expect(code).toBe(1);
    expect(out).toMatch(/UDIAG_SHOW_UID\s+0x40\s+0x80\s+CONFLICT/);
    expect(out).toMatch(/UNIX_DIAG_FOO\s+-\s+8\s+MISSING: headers have it, schema doesn't/);
    expect(out).toMatch(/struct unix_diag_msg\.pad\s+offset 3, 1 byte\s+-\s+MISSING: schema has it, headers don't/);
    expect(out).toMatch(/Not modelled yet[^\n]*\n(\s+linux\/\S+\s+\d+ names\n)+/);

    const json = JSON.parse(runDiff(['--json', '--schema', fixtureSchema, '--headers', tree, '--headers', '/usr/include']).out);
    expect(json.ok).toBe(false);
    // UDIAG_SHOW_UID, the size of unix_diag_vfs, port, and the wider freebind: it moves the
    // 9 bit fields after it and makes struct inet_diag_sockopt a byte longer.
    expect(json.summary).toMatchObject({ conflict: 14, 'not-in-headers': 1, 'not-in-schema': 2 });
    expect(json.rows).toContainEqual(expect.objectContaining({ item: 'UNIX_DIAG_FOO', verdict: 'not-in-schema', file: 'unix_diag.yaml' }));
  });

  it('lists items newer than the headers apart, and fails on a missing item with an older since', () => {
    const v5_2 = (5 << 16) + (2 << 8);
    const withoutUid: [RegExp, string][] = [
      [/#define UDIAG_SHOW_UID.*\n/, ''],
      [/\tUNIX_DIAG_UID,\n/, ''],
    ];
    const older = headerTree({ 'version.h': [[/LINUX_VERSION_CODE \d+/, `LINUX_VERSION_CODE ${v5_2}`]], 'unix_diag.h': withoutUid });
    const result = diff(older);
    expect(result.version).toBe('5.2');
    expect(find(result.rows, 'UDIAG_SHOW_UID')).toMatchObject({ schema: '0x40', headers: '', verdict: 'newer', note: 'since 5.3' });
    expect(find(result.rows, 'UNIX_DIAG_UID')).toMatchObject({ verdict: 'newer' });
    expect(runDiff(['--schema', fixtureSchema, '--headers', older, '--headers', '/usr/include']).code).toBe(0);

    const missing = headerTree({
      'version.h': [[/LINUX_VERSION_CODE \d+/, `LINUX_VERSION_CODE ${v5_2}`]],
      'unix_diag.h': [...withoutUid, [/#define UDIAG_SHOW_MEMINFO.*\n/, '']],
    });
    expect(find(diff(missing).rows, 'UDIAG_SHOW_MEMINFO')).toMatchObject({ verdict: 'not-in-headers', note: 'since 3.6' });
    expect(runDiff(['--schema', fixtureSchema, '--headers', missing, '--headers', '/usr/include']).code).toBe(1);
  });

  it('runs as npm run schema:diff', () => {
    const tree = headerTree({ 'unix_diag.h': [['UNIX_DIAG_UID,', 'UNIX_DIAG_UID,\n\tUNIX_DIAG_FOO,']] });
    const run = spawnSync('npm', ['run', '-s', 'schema:diff', '--', '--schema', fixtureSchema, '--headers', tree], { cwd: repo, encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('UNIX_DIAG_FOO');
    expect(run.stdout).toContain('linux/inet_diag.h');
  });
});
