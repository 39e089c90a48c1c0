/**
 * cgroup v2 ids (INET_DIAG_CGROUP_ID) as paths, the way ss shows them: the id is the
 * inode number of the cgroup's directory in the cgroup2 file system.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The root cgroup's id: its directory is the file system's root inode. */
const ROOT_ID = 1n;
/** How deep to walk the cgroup tree; real trees are a few levels deep. */
const MAX_DEPTH = 16;

/** Returns a lookup from cgroup id to path (`/`, `/system.slice/x.service`), built on first use. */
export function cgroupPaths(mounts = '/proc/mounts'): (id: bigint) => string | undefined {
  let paths: Map<bigint, string> | undefined;
  return (id) => {
    if (id === ROOT_ID) return '/';
    paths ??= walk(cgroup2Root(mounts));
    return paths.get(id);
  };
}

function cgroup2Root(mounts: string): string | undefined {
  try {
    return readFileSync(mounts, 'utf8')
      .split('\n')
      .map((l) => l.split(' '))
      .find((f) => f[2] === 'cgroup2')?.[1];
  } catch {
    return undefined;
  }
}

function walk(root: string | undefined): Map<bigint, string> {
  const paths = new Map<bigint, string>();
  if (!root) return paths;
  const visit = (dir: string, rel: string, depth: number) => {
    try {
      paths.set(statSync(dir, { bigint: true }).ino, rel || '/');
      if (depth >= MAX_DEPTH) return;
      for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) visit(join(dir, e.name), `${rel}/${e.name}`, depth + 1);
    } catch {
      // A cgroup removed while walking, or no permission: skip it.
    }
  };
  visit(root, '', 0);
  return paths;
}
