/**
 * The README's TypeScript examples run as written (with 'sockdiag' resolved to this
 * checkout), so the documentation cannot drift from the API.
 */
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const blocks = [...readFileSync(join(root, 'README.md'), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

describe('README examples', () => {
  it('has TypeScript examples', () => expect(blocks.length).toBeGreaterThanOrEqual(2));

  it.each(blocks.map((b, i) => [i + 1, b] as const))('example %i runs', async (i, code) => {
    const file = join(root, `.tmp-readme-${process.pid}-${i}.mts`);
    writeFileSync(file, code.replace(/from 'sockdiag'/g, "from './query/index.js'").replace(/from 'sockdiag\/generated'/g, "from './generated/index.js'"));
    try {
      const { stderr } = await promisify(execFile)('npx', ['tsx', file], { cwd: root, encoding: 'utf8' });
      expect(stderr).toBe('');
    } finally {
      rmSync(file, { force: true });
    }
  });
});
