import type { HostNode, Side } from '../../query/filter/ast.js';

/** A fixed service table, so tests do not depend on /etc/services. */
export const services = (name: string): number | undefined =>
  ({ ssh: 22, http: 80, https: 443, www: 80 })[name];

/** A host node written out by hand (rather than through the parser under test). */
export function host(
  side: Side,
  prefix: ['inet' | 'inet6', number[], number] | null,
  port: number | null = null,
): HostNode {
  return {
    kind: 'host',
    side,
    prefix: prefix && { family: prefix[0], bytes: prefix[1], prefixLength: prefix[2] },
    port,
  };
}

/** 16 bytes of IPv6: the given leading and trailing bytes, zeros between. */
export function v6(head: number[], tail: number[] = []): number[] {
  return [...head, ...new Array<number>(16 - head.length - tail.length).fill(0), ...tail];
}
