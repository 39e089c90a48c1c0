/**
 * `-r`: port numbers as service names from `/etc/services`, as ss resolves them
 * (only outside the ephemeral port range, whose names would mislead).
 */
import { readFileSync } from 'node:fs';

export type ServiceProtocol = 'tcp' | 'udp';

/** Looks up service names by port and protocol; loads the files lazily, once. */
export class Services {
  private table?: Map<string, string>;
  private ephemeral?: [number, number];

  constructor(
    private readonly servicesPath = '/etc/services',
    private readonly rangePath = '/proc/sys/net/ipv4/ip_local_port_range',
  ) {}

  /** The service name of `port`, or the number as text. */
  name(port: number, protocol: ServiceProtocol): string {
    if (this.isEphemeral(port)) return String(port);
    return this.load().get(`${port}/${protocol}`) ?? String(port);
  }

  /** The port of a service name (for filters such as `dport = :https`), or undefined. */
  port(name: string, protocol: ServiceProtocol = 'tcp'): number | undefined {
    for (const [key, value] of this.load()) if (value === name && key.endsWith(`/${protocol}`)) return Number(key.split('/')[0]);
    return undefined;
  }

  private isEphemeral(port: number): boolean {
    if (!this.ephemeral) {
      try {
        const [lo, hi] = readFileSync(this.rangePath, 'utf8').trim().split(/\s+/).map(Number);
        this.ephemeral = [lo!, hi!];
      } catch {
        this.ephemeral = [32768, 60999];
      }
    }
    return port >= this.ephemeral[0] && port <= this.ephemeral[1];
  }

  private load(): Map<string, string> {
    if (this.table) return this.table;
    this.table = new Map();
    let text = '';
    try {
      text = readFileSync(this.servicesPath, 'utf8');
    } catch {
      return this.table;
    }
    for (const line of text.split('\n')) {
      const m = /^([^\s#]+)\s+(\d+)\/(\w+)/.exec(line);
      if (m && !this.table.has(`${m[2]}/${m[3]}`)) this.table.set(`${m[2]}/${m[3]}`, m[1]!);
    }
    return this.table;
  }
}
