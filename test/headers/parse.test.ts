/** The pieces of schema:diff that need no compiler: reading preprocessed C, and the header version. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePreprocessed } from '../../generator/headers/cdecl.js';
import { headerVersion } from '../../generator/headers/probe.js';

const preprocessed = `# 1 "<built-in>"
#define __GNUC__ 12
# 1 "/h/linux/a.h" 1
#define _A_H
#define A_SHOW_X 0x1
#define A_FN(x) ((x) + 1)
struct a_msg {
 __u8 a_family;
 union {
  __u8 a_mode;
  __u8 a_old_mode;
 };
 __u8 f1:3, f2:5;
 struct a_id { __u32 x[2]; } id;
 __be32 addr[4];
#define A_INSIDE (~0U)
 __u32 tail[];
} __attribute__((packed));
enum a_kind { A_ONE = 1, A_TWO = (1 << 2), A_THREE, };
# 3 "/h/linux/b.h" 1
static inline int f(struct a_msg *m) { return m->a_family; }
enum { B_X };
#undef A_SHOW_X
`;

describe('parsePreprocessed', () => {
  const c = parsePreprocessed(preprocessed);

  it('reads object-like #defines with their header, and forgets #undef-ed ones', () => {
    expect(c.defines.get('A_INSIDE')).toEqual({ name: 'A_INSIDE', body: '(~0U)', file: '/h/linux/a.h' });
    expect(c.defines.has('A_SHOW_X')).toBe(false);
    expect(c.defines.has('A_FN')).toBe(false); // function-like
    expect(c.defines.has('_A_H')).toBe(false); // empty
    expect(c.macros.has('A_FN')).toBe(true);
  });

  it('reads enum constants with their enum block', () => {
    expect([...c.enumConsts.keys()]).toEqual(['A_ONE', 'A_TWO', 'A_THREE', 'B_X']);
    expect(c.enums[0]).toEqual({ tag: 'a_kind', file: '/h/linux/a.h', names: ['A_ONE', 'A_TWO', 'A_THREE'] });
    expect(c.enumConsts.get('B_X')).toMatchObject({ file: '/h/linux/b.h', block: 1 });
  });

  it('reads struct members: bit fields, arrays, nested and anonymous records, flexible arrays', () => {
    const msg = c.records.get('struct a_msg')!;
    expect(msg.members.map((m) => m.name)).toEqual(['a_family', 'a_mode', 'a_old_mode', 'f1', 'f2', 'id', 'addr', 'tail']);
    const by = (n: string) => msg.members.find((m) => m.name === n);
    expect(by('f2')).toMatchObject({ bitField: true, dims: 0, type: '__u8' });
    expect(by('id')).toMatchObject({ record: true, bitField: false });
    expect(by('addr')).toMatchObject({ dims: 1, flexible: false, type: '__be32', record: false });
    expect(by('tail')).toMatchObject({ dims: 1, flexible: true });
    expect(c.records.get('struct a_id')!.members).toEqual([{ name: 'x', bitField: false, dims: 1, flexible: false, record: false, type: '__u32' }]);
  });
});

describe('headerVersion', () => {
  it('reads LINUX_VERSION_CODE, or a kernel checkout Makefile for include/uapi', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sockdiag-ver-'));
    try {
      mkdirSync(join(dir, 'usr/linux'), { recursive: true });
      writeFileSync(join(dir, 'usr/linux/version.h'), `#define LINUX_VERSION_CODE ${(6 << 16) + (18 << 8) + 3}\n`);
      expect(headerVersion({ dirs: [join(dir, 'usr')] })).toEqual([6, 18]);
      mkdirSync(join(dir, 'src/include/uapi/linux'), { recursive: true });
      writeFileSync(join(dir, 'src/Makefile'), 'VERSION = 7\nPATCHLEVEL = 0\nSUBLEVEL = 0\n');
      expect(headerVersion({ dirs: [join(dir, 'src/include/uapi')] })).toEqual([7, 0]);
      expect(headerVersion({ dirs: [join(dir, 'nowhere')] })).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
