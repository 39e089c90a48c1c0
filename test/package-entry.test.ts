/**
 * The package as users import it: `sockdiag` and `sockdiag/generated` resolve to the
 * bundle in dist/lib (one module graph of a few files instead of about 60 modules),
 * export exactly what the modules they are built from export, and share one copy of
 * each class, so that an error thrown by a generated decoder is an instance of the
 * class `sockdiag` exports. Runs in a child process from the repository, where the
 * package's own name resolves through its `exports`.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { REPO } from './helpers/netns.js';

/** Runs `script` as an ES module in the repository; returns what it printed, parsed as JSON. */
function inRepo(script: string): unknown {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO, encoding: 'utf8', timeout: 30_000 });
  expect([r.status, r.stderr]).toEqual([0, '']);
  return JSON.parse(r.stdout);
}

describe('the package entry points', () => {
  it('resolve to the bundle in dist/lib, with the exports of the modules they bundle', () => {
    const out = inRepo(`
      const names = async (m) => Object.keys(await import(m)).sort();
      console.log(JSON.stringify({
        main: import.meta.resolve('sockdiag'),
        generated: import.meta.resolve('sockdiag/generated'),
        mainNames: await names('sockdiag'),
        mainSource: await names('./dist/query/index.js'),
        generatedNames: await names('sockdiag/generated'),
        generatedSource: await names('./dist/generated/index.js'),
      }));`) as Record<string, string | string[]>;
    expect(out.main).toBe(`file://${REPO}/dist/lib/sockdiag.js`);
    expect(out.generated).toBe(`file://${REPO}/dist/lib/generated.js`);
    expect(out.mainNames).toEqual(out.mainSource);
    expect(out.generatedNames).toEqual(out.generatedSource);
    expect(out.mainNames).toEqual(expect.arrayContaining(['SockDiag', 'inet', 'watch', 'DecodeError']));
  });

  it('share their classes: what a generated decoder throws is the DecodeError sockdiag exports; a dump runs', () => {
    const out = inRepo(`
      import { DecodeError, SockDiag } from 'sockdiag';
      import { decodeTcpInfo } from 'sockdiag/generated';
      let thrown;
      try { decodeTcpInfo(new DataView(new ArrayBuffer(8)), 0, 8); } catch (e) { thrown = e; }
      const diag = SockDiag.open();
      const dumped = Array.isArray([...diag.unix()]);
      diag.close();
      console.log(JSON.stringify({ same: thrown instanceof DecodeError, dumped }));`);
    expect(out).toEqual({ same: true, dumped: true });
  });
});
