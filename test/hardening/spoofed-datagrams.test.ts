/**
 * Hostile bytes from another process: any local netlink socket can send datagrams to
 * ours (by its port id). Replies are only taken from the kernel (sender port id 0),
 * so datagrams queued ahead of a dump's replies that imitate them (the next sequence
 * number, a fake NLMSG_DONE, an NLMSG_ERROR, a fake socket record, a datagram bigger
 * than the receive buffer) must change nothing: the dump lists what the kernel says.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeUnixDiagMsg, encodeUnixDiagMsg } from '../../generated/unix_diag.js';
import { encodeSockaddrNl, NetlinkProtocol } from '../../generated/netlink.js';
import { AddressFamily } from '../../generated/socket.js';
import { SockDiag } from '../../query/session.js';
import * as libc from '../../runtime/libc.js';
import { NetlinkSocket } from '../../runtime/netlink-socket.js';
import { Holder, kernelTestsSkipReason, Netns } from '../helpers/netns.js';
import { fixturePayloads } from './lib/messages.js';

const skipReason = kernelTestsSkipReason();
if (skipReason) console.warn(`test/hardening/spoofed-datagrams.test.ts skipped: ${skipReason}`);

function message(type: number, flags: number, seq: number, pid: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(16 + payload.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, out.length, true);
  v.setUint16(4, type, true);
  v.setUint16(6, flags, true);
  v.setUint32(8, seq, true);
  v.setUint32(12, pid, true);
  out.set(payload, 16);
  return out;
}

describe.skipIf(!!skipReason)(`datagrams from another netlink socket${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let ns: Netns;
  let holder: Holder;
  beforeAll(async () => {
    ns = Netns.create('spoof');
    holder = await Holder.start(ns, 'python');
    await holder.request('many-pairs', { count: 50 });
  });
  afterAll(async () => {
    await holder?.stop();
    ns?.delete();
  });

  it('are ignored: fake replies queued ahead of the kernel\'s change nothing, a big one included', () => {
    const expected = (() => {
      using d = SockDiag.open({ netns: ns.spec });
      return [...d.unix()].map((s) => s.cookie).sort();
    })();
    expect(expected.length).toBeGreaterThanOrEqual(100);

    using diag = SockDiag.open({ netns: ns.spec });
    const ours = (diag as unknown as { socket: NetlinkSocket }).socket;
    using other = NetlinkSocket.open(NetlinkProtocol['sock-diag'], { netns: ns.spec });
    const to = encodeSockaddrNl({ family: AddressFamily.netlink, pad: 0, pid: ours.portId, groups: 0 });
    const fake = (() => {
      const p = fixturePayloads('unix-all-show.json')[0]!;
      const msg = decodeUnixDiagMsg(new DataView(p.buffer), 0, 16);
      return encodeUnixDiagMsg({ ...msg, udiagCookie: 0xdeadbeefn });
    })();
    const error = new Uint8Array(20);
    new DataView(error.buffer).setInt32(0, -1, true); // EPERM
    let sent = 0;
    for (let seq = 1; seq <= 3; seq++) {
      for (const m of [
        message(20, 2, seq, ours.portId, fake), // a socket record
        message(3, 2, seq, ours.portId, new Uint8Array(4)), // NLMSG_DONE
        message(2, 0, seq, ours.portId, error), // NLMSG_ERROR EPERM
        // Bigger than the 32 KiB receive buffer (once: the socket's queue holds about 200 KiB).
        ...(seq === 1 ? [message(20, 2, seq, ours.portId, new Uint8Array(80_000))] : []),
      ]) {
        libc.sendto(other.fd, m, 0, to);
        sent++;
      }
    }
    expect(sent).toBe(10);
    for (let i = 0; i < 3; i++) {
      const got = [...diag.unix()].map((s) => s.cookie).sort();
      expect(got).not.toContain(0xdeadbeefn);
      expect(got).toEqual(expected);
    }
  });
});
