import { existsSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIp, maskBytes, parseIpv4, parseIpv6 } from '../../query/filter/address.js';
import { cgroup, dev, dport, mark, sport } from '../../query/filter/ast.js';
import { localPortRange, lookupCgroupId, lookupIfindex, lookupService } from '../../query/filter/system.js';
import { v6 } from './helpers.js';

describe('IP addresses', () => {
  it.each<[string, number[] | null]>([
    ['::', v6([])],
    ['::1', v6([], [1])],
    ['1::', v6([0, 1])],
    ['1:2:3:4:5:6:7:8', [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]],
    ['1:2:3:4:5:6:7::', [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0]],
    ['FE80::aBc', v6([0xfe, 0x80], [0x0a, 0xbc])],
    ['::ffff:10.0.0.1', v6([], [0xff, 0xff, 10, 0, 0, 1])],
    ['64:ff9b::192.0.2.33', v6([0, 0x64, 0xff, 0x9b], [192, 0, 2, 33])],
    ['1:2:3:4:5:6:7:8:9', null],
    ['1:2:3:4:5:6:7:8::', null],
    ['1::2::3', null],
    [':1::', null],
    ['1:', null],
    ['12345::', null],
    ['::10.0.0', null],
    ['10.0.0.1::', null],
    ['g::', null],
  ])('parseIpv6(%s)', (text, bytes) => {
    expect(parseIpv6(text)).toStrictEqual(bytes);
  });

  it('reads IPv4 like iproute2, short forms included, but only in decimal', () => {
    expect(parseIpv4('192.168.1.254')).toStrictEqual([192, 168, 1, 254]);
    expect(parseIpv4('10', true)).toStrictEqual([10, 0, 0, 0]);
    expect(parseIpv4('10.1', true)).toStrictEqual([10, 1, 0, 0]);
    expect(parseIpv4('10')).toBeNull();
    expect(parseIpv4('1.2.3.4.5', true)).toBeNull();
    expect(parseIpv4('01.2.3.4')).toBeNull();
    expect(parseIpv4('256.0.0.0')).toBeNull();
    expect(parseIpv4('1..2.3')).toBeNull();
  });

  it.each<[number[], string]>([
    [v6([]), '::'],
    [v6([], [1]), '::1'],
    [[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1], '2001:db8::1:0:0:1'],
    [[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1], '2001:db8:0:1:1:1:1:1'],
    [v6([], [0xff, 0xff, 10, 0, 0, 1]), '::ffff:10.0.0.1'],
    [[127, 0, 0, 1], '127.0.0.1'],
  ])('formatIp(%j) follows RFC 5952', (bytes, text) => {
    expect(formatIp(bytes)).toBe(text);
  });

  it('formats and parses back any address', () => {
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.uint8Array({ minLength: 16, maxLength: 16 })), (bytes) => {
      const text = formatIp([...bytes]);
      expect(bytes.length === 4 ? parseIpv4(text) : parseIpv6(text)).toStrictEqual([...bytes]);
    }));
  });

  it('masks prefixes', () => {
    expect(maskBytes([10, 255, 255, 255], 12)).toStrictEqual([10, 240, 0, 0]);
    expect(maskBytes([255, 255], 0)).toStrictEqual([0, 0]);
  });
});

describe('builders', () => {
  it('normalize operator spellings and reject bad numbers', () => {
    expect(sport('geq', 1)).toStrictEqual(sport('>=', 1));
    expect(dport('==', 1)).toStrictEqual({ kind: 'port', side: 'dst', op: '=', port: 1 });
    expect(() => sport('=', 65536)).toThrow(RangeError);
    expect(() => sport('=', 1.5)).toThrow(RangeError);
    expect(() => dport('~' as '=', 1)).toThrow(RangeError);
    expect(() => mark(-1)).toThrow(RangeError);
    expect(() => mark(1, 2 ** 32)).toThrow(RangeError);
    expect(() => dev(-1)).toThrow(RangeError);
    expect(() => cgroup(2n ** 64n)).toThrow(RangeError);
  });

  it('read strings as filter text does', () => {
    expect(dev('7')).toStrictEqual(dev(7));
    expect(cgroup('42')).toStrictEqual(cgroup(42n));
    expect(mark(1)).toStrictEqual({ kind: 'mark', value: 1, mask: 0xffffffff });
  });
});

describe('system look-ups', () => {
  it.skipIf(!existsSync('/etc/services'))('finds services in /etc/services', () => {
    expect(lookupService('ssh')).toBe(22);
    expect(lookupService('www')).toBe(80);
    expect(lookupService('no-such-service')).toBeUndefined();
  });

  it.skipIf(!existsSync('/sys/class/net/lo'))('finds interfaces in /sys/class/net', () => {
    expect(lookupIfindex('lo')).toBe(1);
    expect(lookupIfindex('../lo')).toBeUndefined();
    expect(lookupIfindex('no-such-dev')).toBeUndefined();
  });

  it('finds cgroup ids only on cgroup2', () => {
    expect(lookupCgroupId('/no/such/cgroup')).toBeUndefined();
    expect(lookupCgroupId('/proc')).toBeUndefined();
    const root = lookupCgroupId('/');
    if (root !== undefined) expect(typeof root).toBe('bigint');
  });

  it('reads the ephemeral port range', () => {
    const [low, high] = localPortRange();
    expect(low).toBeLessThanOrEqual(high);
  });
});
