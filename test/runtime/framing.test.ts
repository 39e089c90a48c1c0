/** Framing and reply handling on hand-made bytes: malformed frames, errors, extended acks. */
import fc from 'fast-check';
import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import { NLMSGHDR_SIZE, NlmAckFlags, NlmFlags, NlmsgType, encodeNlmsgerr, encodeNlmsgerrAttrs, writeNlmsghdr } from '../../generated/netlink.js';
import { DecodeError } from '../../runtime/codec.js';
import { NetlinkError } from '../../runtime/errors.js';
import { Reply, parseMessages, type NetlinkMessage } from '../../runtime/netlink-socket.js';

const SEQ = 7;
const PORT = 4242;

/** One datagram holding the given messages, each padded as the kernel pads them. */
function datagram(...messages: { type: number; flags?: number; seq?: number; pid?: number; payload?: Uint8Array; len?: number }[]): DataView {
  const size = (m: { payload?: Uint8Array }) => (NLMSGHDR_SIZE + (m.payload?.length ?? 0) + 3) & ~3;
  const bytes = new Uint8Array(messages.reduce((n, m) => n + size(m), 0));
  const view = new DataView(bytes.buffer);
  let offset = 0;
  for (const m of messages) {
    const len = m.len ?? NLMSGHDR_SIZE + (m.payload?.length ?? 0);
    writeNlmsghdr({ len, type: m.type, flags: m.flags ?? 0, seq: m.seq ?? SEQ, pid: m.pid ?? PORT }, view, offset);
    bytes.set(m.payload ?? new Uint8Array(), offset + NLMSGHDR_SIZE);
    offset += size(m);
  }
  return view;
}

const parse = (view: DataView) => [...parseMessages(view, view.byteLength)];
const int = (value: number) => new Uint8Array(new Int32Array([value]).buffer);
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
};

describe('parseMessages', () => {
  it('frames consecutive messages, giving payload offsets and lengths', () => {
    const view = datagram({ type: 20, payload: new Uint8Array(5) }, { type: NlmsgType.done, payload: int(0) });
    expect(parse(view).map(({ type, offset, length }) => ({ type, offset, length }))).toEqual([
      { type: 20, offset: 16, length: 5 },
      { type: NlmsgType.done, offset: 40, length: 4 },
    ]);
  });

  it('rejects nlmsg_len below the header size instead of looping', () => {
    expect(() => parse(datagram({ type: 20, len: 0 }))).toThrow(DecodeError);
    expect(() => parse(datagram({ type: 20, len: NLMSGHDR_SIZE - 1 }))).toThrow(DecodeError);
  });

  it('rejects nlmsg_len overrunning the datagram', () => {
    expect(() => parse(datagram({ type: 20, payload: new Uint8Array(4), len: 64 }))).toThrow(/nlmsg_len 64/);
  });

  it('rejects a header cut short at the end of the datagram', () => {
    const view = datagram({ type: 20 });
    expect(() => [...parseMessages(view, NLMSGHDR_SIZE - 8)]).toThrow(DecodeError);
    const twoAndAHalf = datagram({ type: 20 }, { type: 20 }, { type: 20 });
    expect(() => [...parseMessages(twoAndAHalf, 2 * NLMSGHDR_SIZE + 8)]).toThrow(/struct nlmsghdr/);
  });

  it('ends or throws DecodeError on any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
        try {
          for (const m of parseMessages(new DataView(bytes.buffer), bytes.length)) expect(m.offset + m.length).toBeLessThanOrEqual(bytes.length);
        } catch (e) {
          expect(e).toBeInstanceOf(DecodeError);
        }
      }),
    );
  });
});

describe('Reply', () => {
  const reply = (requestFlags?: number) => new Reply(SEQ, PORT, requestFlags, 'type 20');
  const only = (view: DataView): NetlinkMessage => parse(view)[0]!;

  it('skips NOOP and messages of other requests or ports', () => {
    const r = reply();
    expect(r.step(only(datagram({ type: NlmsgType.noop })))).toBe('skip');
    expect(r.step(only(datagram({ type: 20, seq: SEQ + 1 })))).toBe('skip');
    expect(r.step(only(datagram({ type: 20, pid: 0 })))).toBe('skip');
  });

  it('ends after a single reply, or at the ACK when one was asked for', () => {
    expect(reply().step(only(datagram({ type: 20 })))).toBe('last');
    const acked = reply(NlmFlags.ack);
    expect(acked.step(only(datagram({ type: 20 })))).toBe('data');
    const ack = encodeNlmsgerr({ error: 0, msg: { len: NLMSGHDR_SIZE, type: 20, flags: 0, seq: SEQ, pid: PORT } });
    expect(acked.step(only(datagram({ type: NlmsgType.error, flags: NlmAckFlags.capped, payload: ack })))).toBe('end');
  });

  it('keeps a multipart reply going until NLMSG_DONE and records NLM_F_DUMP_INTR', () => {
    const r = reply();
    expect(r.step(only(datagram({ type: 20, flags: NlmFlags.multi | NlmFlags['dump-intr'] })))).toBe('data');
    expect(r.step(only(datagram({ type: NlmsgType.done, flags: NlmFlags.multi, payload: int(0) })))).toBe('end');
    expect(r.interrupted).toBe(true);
  });

  it('turns an NLMSG_ERROR with the echoed request and extended ack into a NetlinkError', () => {
    const request = new Uint8Array(6);
    const err = encodeNlmsgerr({
      error: -constants.errno.EINVAL,
      msg: { len: NLMSGHDR_SIZE + request.length, type: 20, flags: 0, seq: SEQ, pid: PORT },
    });
    const tlvs = encodeNlmsgerrAttrs({ msg: 'bad family', offs: 16 });
    const payload = concat(err, request, new Uint8Array(2), tlvs); // the echo is padded to 4 bytes
    const r = reply();
    const e = (() => {
      try {
        r.step(only(datagram({ type: NlmsgType.error, flags: NlmAckFlags['ack-tlvs'], payload })));
      } catch (e) {
        return e;
      }
    })();
    expect(e).toBeInstanceOf(NetlinkError);
    expect(e).toMatchObject({ errno: constants.errno.EINVAL, code: 'EINVAL', extack: 'bad family', extackOffset: 16, request: 'type 20' });
    expect((e as Error).message).toMatch(/EINVAL.*bad family/);
    expect(r.ended).toBe(true);
  });

  it('turns a negative NLMSG_DONE code into a NetlinkError with its extended ack', () => {
    const payload = concat(int(-constants.errno.EBUSY), encodeNlmsgerrAttrs({ msg: 'dump busy' }));
    const done = only(datagram({ type: NlmsgType.done, flags: NlmFlags.multi | NlmAckFlags['ack-tlvs'], payload }));
    expect(() => reply().step(done)).toThrow(expect.objectContaining({ code: 'EBUSY', extack: 'dump busy' }));
  });

  it('rejects a short NLMSG_ERROR or NLMSG_DONE payload', () => {
    expect(() => reply().step(only(datagram({ type: NlmsgType.error, payload: int(0) })))).toThrow(DecodeError);
    expect(() => reply().step(only(datagram({ type: NlmsgType.done })))).toThrow(DecodeError);
  });
});
