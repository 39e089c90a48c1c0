/**
 * The bin loads the command's bundle with the code cache `npm run build` wrote
 * (cli/code-cache.ts): the bin opens that cache, V8 takes it, and it holds more than
 * the bundle's top level (the build's warm-up listings ran). Without a cache, or with one V8 refuses,
 * the command lists the same. The writer leaves no cache, and does not fail the build,
 * when the bundle cannot load.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openNamespace, ROOT, sockdiag, type Namespace } from '../helpers/cli-netns.js';
import { hasCommand } from '../helpers/netns.js';

const DIST_BIN = join(ROOT, 'dist/bin');

let ns: Namespace;
beforeAll(async () => {
  ns = await openNamespace();
});
afterAll(async () => {
  await ns?.close();
});

/** In a child node: loads the bundle in `binDir` with its cache; reports what V8 did with the cache, and how big a cache of the bundle's top level alone is. */
function loadReport(binDir = DIST_BIN): { cacheBytes: number; cacheRejected: boolean; topLevelBytes: number } {
  const code = `
    import { commandFiles, loadBundle } from ${JSON.stringify(join(ROOT, 'dist/cli/code-cache.js'))};
    const { bundle, cache } = commandFiles(${JSON.stringify(binDir)});
    const withCache = loadBundle(bundle, cache);
    const fresh = loadBundle(bundle);
    console.log(JSON.stringify({ cacheBytes: withCache.cacheBytes, cacheRejected: withCache.cacheRejected, topLevelBytes: fresh.script.createCachedData().length }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 30_000 });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as { cacheBytes: number; cacheRejected: boolean; topLevelBytes: number };
}

describe('the code cache of the command', () => {
  it('is taken by V8, and holds the functions the warm-up listings compiled', () => {
    const r = loadReport();
    expect(r.cacheRejected).toBe(false);
    expect(r.cacheBytes).toBeGreaterThan(r.topLevelBytes);
  });

  it.skipIf(!hasCommand('strace'))(`is the file the bin reads${hasCommand('strace') ? '' : ' (skipped: needs strace)'}`, () => {
    const trace = join(mkdtempSync(join(tmpdir(), 'sockdiag-code-cache-trace-')), 'openat');
    try {
      const r = spawnSync('strace', ['-f', '-qq', '-e', 'trace=openat', '-o', trace, process.execPath, join(DIST_BIN, 'sockdiag.cjs'), '--version'], { encoding: 'utf8', timeout: 30_000 });
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/^sockdiag /);
      const opened = readFileSync(trace, 'utf8');
      expect(opened).toMatch(new RegExp(`"${join(DIST_BIN, 'command.cache').replace(/[.]/g, '\\.')}", O_RDONLY[^)]*\\) = \\d+`));
    } finally {
      rmSync(dirname(trace), { recursive: true, force: true });
    }
  });

  describe('a copy of the bin without the cache, or with one V8 refuses, lists the same', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sockdiag-code-cache-'));
    const bin = join(dir, 'dist/bin');
    beforeAll(() => {
      mkdirSync(bin, { recursive: true });
      for (const f of ['sockdiag.cjs', 'command.cjs', 'reader-worker.js']) copyFileSync(join(DIST_BIN, f), join(bin, f));
      copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
      symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    const ARGS = ['-tuxan'];
    const run = () => spawnSync(process.execPath, [join(bin, 'sockdiag.cjs'), '-N', ns.name, ...ARGS], { encoding: 'utf8', timeout: 30_000 });
    const caches: [string, (() => Buffer) | undefined][] = [
      ['no cache file', undefined],
      ['a cache of another script', () => new Script('"another script"').createCachedData()],
      ['random bytes', () => randomBytes(4096)],
    ];
    it.each(caches)('%s', (_, cache) => {
      rmSync(join(bin, 'command.cache'), { force: true });
      if (cache) writeFileSync(join(bin, 'command.cache'), cache());
      const expected = sockdiag(['-N', ns.name, ...ARGS]);
      expect(expected.status).toBe(0);
      expect(expected.stdout).toMatch(/ESTAB/);
      const r = run();
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(expected.stdout);
    });
  });

  describe('its writer (cli/write-code-cache.ts, run by npm run bundle)', () => {
    const WRITER = join(ROOT, 'dist/cli/write-code-cache.js');
    const write = (binDir: string) => spawnSync(process.execPath, [WRITER, binDir], { encoding: 'utf8', timeout: 60_000 });

    it('writes a cache V8 takes, for the bundle in the folder it is given', () => {
      const pkg = mkdtempSync(join(tmpdir(), 'sockdiag-code-cache-writer-'));
      // The bundle finds koffi in the package's node_modules, as in dist/bin.
      symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
      const dir = join(pkg, 'bin');
      mkdirSync(dir);
      try {
        copyFileSync(join(DIST_BIN, 'command.cjs'), join(dir, 'command.cjs'));
        const r = write(dir);
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
        const report = loadReport(dir);
        expect(report.cacheRejected).toBe(false);
        expect(report.cacheBytes).toBeGreaterThan(report.topLevelBytes);
      } finally {
        rmSync(pkg, { recursive: true, force: true });
      }
    });

    it('leaves no cache, and exits 0 with one line on stderr, when the bundle does not load', () => {
      const dir = mkdtempSync(join(tmpdir(), 'sockdiag-code-cache-writer-'));
      try {
        writeFileSync(join(dir, 'command.cjs'), "throw new Error('koffi: this machine is not supported');\n");
        const r = write(dir);
        expect(r.status).toBe(0);
        expect(r.stderr).toBe("write-code-cache: no code cache, the command's bundle does not load here: koffi: this machine is not supported\n");
        expect(existsSync(join(dir, 'command.cache'))).toBe(false);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
