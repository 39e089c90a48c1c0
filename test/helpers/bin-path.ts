/** Where the `sockdiag` command is in a package folder: package.json's `bin`, as `npm install` links it. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export function binPath(packageDir: string): string {
  const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { bin: { sockdiag: string } };
  return join(packageDir, pkg.bin.sockdiag);
}
