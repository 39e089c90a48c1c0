/**
 * The other sock_diag families through the library and the command: NETLINK and
 * PACKET against the running kernel; XDP, VSOCK, SMC and TIPC, whose diag modules
 * this kernel may lack, either dump or say clearly that the kernel cannot.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { NetlinkProtocol } from '../../generated/netlink.js';
import { NoDiagSupportError, SockDiag } from '../../query/index.js';
import { binPath } from '../helpers/bin-path.js';
import { REPO } from '../helpers/netns.js';

const BIN = binPath(REPO);

describe('NETLINK and PACKET sockets', () => {
  it('finds this process\'s own sock_diag socket among the NETLINK sockets, with its port id and protocol', () => {
    using diag = SockDiag.open();
    const own = (diag as unknown as { socket: { portId: number } }).socket.portId;
    const mine = [...diag.sockets('netlink')].find((s) => s.ndiagPortid === own);
    expect(mine).toBeDefined();
    expect(mine!.ndiagProtocol).toBe(NetlinkProtocol['sock-diag']);
    expect(mine!.ndiagIno).toBeGreaterThan(0);
    expect(mine!.meminfo).toHaveLength(9);
  });

  it('sockdiag --netlink -r lists the kernel\'s netlink sockets as ss names them (rtnl:kernel, genl:kernel, ...)', () => {
    const kernelOwned = (text: string) =>
      text
        .split('\n')
        .map((l) => l.trim().split(/\s+/).find((w) => w.endsWith(':kernel')))
        .filter((w): w is string => w !== undefined)
        .sort();
    const ours = kernelOwned(execFileSync(process.execPath, [BIN, '--netlink', '-arH'], { encoding: 'utf8' }));
    const theirs = kernelOwned(execFileSync('ss', ['-A', 'netlink', '-aH'], { encoding: 'utf8' }));
    expect(theirs.length).toBeGreaterThan(3);
    expect(ours).toEqual(theirs);
  });

  it('dumps PACKET sockets (an empty list is a real answer: the kernel has packet_diag)', () => {
    using diag = SockDiag.open();
    expect(() => [...diag.sockets('packet')]).not.toThrow();
  });
});

describe.each(['xdp', 'vsock', 'smc', 'tipc'] as const)('%s sockets', (family) => {
  it('dump, or fail with NoDiagSupportError naming the family, never an empty success by mistake', () => {
    using diag = SockDiag.open();
    let error: unknown;
    try {
      for (const s of diag.sockets(family)) expect(s.family).toBe(family);
    } catch (e) {
      error = e;
    }
    if (error === undefined) return;
    expect(error).toBeInstanceOf(NoDiagSupportError);
    expect((error as Error).message).toContain(`no sock_diag support for ${family.toUpperCase()} sockets`);
  });

  it(`sockdiag --${family}: a listing, or one line naming what the kernel lacks and exit 1`, () => {
    const r = spawnSync(process.execPath, [BIN, `--${family}`], { encoding: 'utf8' });
    if (r.status === 0) return expect(r.stderr).toBe('');
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([`sockdiag: this kernel has no sock_diag support for ${family.toUpperCase()} sockets (no ${family}_diag module loaded or built)`]);
  });
});
