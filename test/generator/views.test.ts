/**
 * The generated views (`<Struct>View`, `<Set>View`) read what the eager decoders
 * decode, for every struct and attribute set of the schema: from random bytes of
 * every payload length a kernel may send (shorter ones from older kernels, longer
 * ones from newer), and from random attribute sets with each variant selector. A
 * view whose lease has ended throws instead of reading; bad bytes give the decoders'
 * DecodeError; a schema field named like a view's own stops the generator.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeInetDiagMeminfo, INET_DIAG_MEMINFO_SIZE, InetDiagAttrsType, InetDiagAttrsView, InetDiagMeminfoView } from '../../generated/inet_diag.js';
import { decodeTcpInfo, TCP_INFO_MIN_SIZE } from '../../generated/tcp.js';
import { generate } from '../../generator/main.js';
import { DecodeError } from '../../runtime/codec.js';
import { DatagramLease } from '../../runtime/lease.js';
import { copySchema, osTempDir, SCHEMA_DIR, snapshotModules } from '../helpers/generation.js';
import { concat, exactView, rawAttr, setsWithModule, structsWithModule } from '../helpers/model-values.js';
import { checkAttrSetView, checkStructView } from '../helpers/properties.js';

const { schema, modules } = snapshotModules('views');
const structs = structsWithModule(schema);
const sets = setsWithModule(schema);
const lease = () => new DatagramLease();

describe('struct views read what the decoders decode', () => {
  it('found structs in the schema', () => expect(structs.length).toBeGreaterThan(0));
  it.each(structs.map(({ s, module }) => [s.name, s, module] as const))('%s', (_name, s, module) => checkStructView(schema, modules.get(module)!, s, lease));
});

describe('attribute set views read what the decoders decode', () => {
  it('found attribute sets in the schema', () => expect(sets.length).toBeGreaterThan(0));
  it.each(sets.map(({ set, module }) => [set.name, set, module] as const))('%s', (_name, set, module) => checkAttrSetView(schema, modules.get(module)!, set, lease));
});

describe('names a view keeps for itself', () => {
  it('a member that would hide one stops the generator, naming where it is', () => {
    const dir = osTempDir('views-reserved');
    try {
      copySchema(SCHEMA_DIR, join(dir, 'schema'));
      writeFileSync(
        join(dir, 'schema', 'clash.yaml'),
        ['name: clash', 'doc: A member named like a view field.', 'definitions:', '  - name: clash-struct', '    type: struct', '    members:', '      - {name: lease, type: u32}', ''].join('\n'),
      );
      expect(() => generate(join(dir, 'schema'), join(dir, 'out'))).toThrow("clash.yaml:7: struct clash_struct has a field named 'lease', which its generated view uses for itself");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('views of bad bytes fail as the decoders do', () => {
  const attrs = (...parts: Uint8Array[]) => new InetDiagAttrsView(exactView(concat(...parts)), 0, concat(...parts).length, new DatagramLease());
  const mark = InetDiagAttrsType.mark;
  const info = InetDiagAttrsType.info;

  it('an attribute whose length overruns the set, or is below its header, is a DecodeError, not a hang', () => {
    expect(() => attrs(rawAttr(mark, [1, 0, 0, 0], { len: 40 })).mark).toThrow(DecodeError);
    expect(() => attrs(rawAttr(InetDiagAttrsType.cong, [0x41, 0]), rawAttr(mark, [1, 0, 0, 0], { len: 2 })).mark).toThrow(DecodeError);
    // An attribute before the bad one too: the view walks them all, as decode() does.
    const before = attrs(rawAttr(InetDiagAttrsType.cong, [0x62, 0x62, 0x72, 0]), rawAttr(mark, [1, 0, 0, 0], { len: 2 }));
    expect(() => before.cong).toThrow(DecodeError);
    expect(() => before.decode()).toThrow(DecodeError);
  });

  it('JSON.stringify of a view writes its decoded value', () => {
    const bytes = new Uint8Array(INET_DIAG_MEMINFO_SIZE).map((_, i) => i);
    const view = new InetDiagMeminfoView(exactView(bytes), 0, bytes.length);
    expect(JSON.stringify(view)).toBe(JSON.stringify(decodeInetDiagMeminfo(exactView(bytes), 0, bytes.length)));
    expect(JSON.parse(JSON.stringify({ mem: attrs(rawAttr(InetDiagAttrsType.meminfo, bytes)) }))).toEqual({ mem: { meminfo: view.decode() } });
  });

  it('of an attribute sent twice, the view reads the last, as the decoder keeps it', () => {
    const twice = attrs(rawAttr(mark, [1, 0, 0, 0]), rawAttr(InetDiagAttrsType.cong, [0x62, 0x62, 0x72, 0]), rawAttr(mark, [2, 0, 0, 0]));
    expect(twice.mark).toBe(2);
    expect(twice.decode().mark).toBe(2);
  });

  it('a payload too short for its type is a DecodeError; one shorter than the struct reads the members it has', () => {
    expect(() => attrs(rawAttr(mark, [1, 0])).mark).toThrow(/INET_DIAG_MARK.*needs 4 bytes, got 2/);
    expect(() => attrs(rawAttr(info, new Array(TCP_INFO_MIN_SIZE - 1).fill(0))).info).toThrow(new RegExp(`struct tcp_info.*needs ${TCP_INFO_MIN_SIZE} bytes`));
    const short = attrs(rawAttr(info, new Array(TCP_INFO_MIN_SIZE).fill(1))).info!;
    expect(short.state).toBe(1);
    expect(short.minRtt).toBeUndefined();
    expect(short.decode()).toEqual(decodeTcpInfo(exactView(new Uint8Array(TCP_INFO_MIN_SIZE).fill(1)), 0, TCP_INFO_MIN_SIZE));
  });
});
