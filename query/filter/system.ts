/**
 * Default look-ups of names a filter can mention, read from this machine on first use:
 * service names, interface names, cgroup paths and the ephemeral port range.
 */
import { readFileSync, statfsSync, statSync } from 'node:fs';
import { join } from 'node:path';

const CGROUP2_SUPER_MAGIC = 0x63677270;

let services: { tcp: Map<string, number>; other: Map<string, number> } | undefined;

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

/**
 * The port of a service name or alias in /etc/services (read once), preferring the tcp
 * entry; ss would instead report a name whose tcp and udp ports differ as ambiguous.
 */
export function lookupService(name: string): number | undefined {
  if (!services) {
    services = { tcp: new Map(), other: new Map() };
    for (const line of readOr('/etc/services', '').split('\n')) {
      const [official, portProto, ...aliases] = line.replace(/#.*/, '').trim().split(/\s+/);
      const match = /^(\d+)\/(\w+)$/.exec(portProto ?? '');
      if (!official || !match) continue;
      const table = match[2] === 'tcp' ? services.tcp : services.other;
      for (const alias of [official, ...aliases]) if (!table.has(alias)) table.set(alias, Number(match[1]));
    }
  }
  return services.tcp.get(name) ?? services.other.get(name);
}

/** The index of a network interface in this network namespace, from /sys/class/net. */
export function lookupIfindex(name: string): number | undefined {
  if (name === '' || name === '.' || name === '..' || name.includes('/')) return undefined;
  const text = readOr(join('/sys/class/net', name, 'ifindex'), '').trim();
  return /^\d+$/.test(text) ? Number(text) : undefined;
}

/** Where cgroup2 is mounted, from /proc/self/mounts (falling back to /sys/fs/cgroup). */
function cgroup2Mount(): string {
  for (const line of readOr('/proc/self/mounts', '').split('\n')) {
    const [, mountPoint, type] = line.split(' ');
    if (type === 'cgroup2' && mountPoint) {
      return mountPoint.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
    }
  }
  return '/sys/fs/cgroup';
}

/**
 * The id of a cgroup v2 directory: its inode number, which is the kernfs id the kernel
 * reports (on 64-bit inode systems). Like ss, the path is tried as given, then relative
 * to the cgroup2 mount; only directories on cgroup2 count.
 */
export function lookupCgroupId(path: string): bigint | undefined {
  for (const candidate of [path, join(cgroup2Mount(), path)]) {
    try {
      if (statfsSync(candidate).type === CGROUP2_SUPER_MAGIC) return statSync(candidate, { bigint: true }).ino;
    } catch {
      // not there: try the next candidate
    }
  }
  return undefined;
}

/** The ephemeral port range from /proc/sys/net/ipv4/ip_local_port_range (default 32768-60999). */
export function localPortRange(): readonly [number, number] {
  const match = /^(\d+)\s+(\d+)/.exec(readOr('/proc/sys/net/ipv4/ip_local_port_range', ''));
  return match ? [Number(match[1]), Number(match[2])] : [32768, 60999];
}
