"""
Opens a known set of sockets for the sockdiag command tests, prints what it opened
as one JSON line on stdout, then stays alive (holding every socket) until its
standard input closes or it is killed.

Run it inside the test's network namespace: `ip netns exec NAME python3 cli-sockets.py DIR [--many N]`.
DIR is a private directory for the UNIX socket paths. With --many N it opens N
extra TCP connections (2N sockets) for the streaming test.

Every socket it reports is described by what ss shows of it: state, local and peer
address and port, the queue lengths it leaves behind (data sent and never read),
and its inode and fd (for -e and -p).
"""
import ctypes
import json
import os
import resource
import socket
import struct
import sys
import threading
import time


def ino(s):
    return os.fstat(s.fileno()).st_ino


def main():
    directory = sys.argv[1]
    many = int(sys.argv[sys.argv.index('--many') + 1]) if '--many' in sys.argv else 0
    if many:
        need = 2 * many + 200
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < need:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(need, soft), hard), hard))

    keep = []  # every socket, so none is closed by the garbage collector
    out = {'pid': os.getpid(), 'tcp': {}, 'udp': {}, 'unix': {}, 'tcpTimeWait': None}

    def tcp_entry(s):
        return {'inode': ino(s), 'fd': s.fileno(), 'local': s.getsockname()[:2]}

    # TCP over IPv4: a listener with one accepted connection (data queued both ways,
    # never read), one connection left in the accept queue, and one half-closed pair.
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind(('127.0.0.1', 0))
    lst.listen(max(16, many + 16))
    keep.append(lst)
    port = lst.getsockname()[1]
    out['tcp']['listener'] = tcp_entry(lst)

    client = socket.create_connection(('127.0.0.1', port))
    server, _ = lst.accept()
    keep += [client, server]
    client.sendall(b'c' * 1000)  # server's Recv-Q: 1000
    server.sendall(b's' * 300)  # client's Recv-Q: 300
    out['tcp']['client'] = tcp_entry(client)
    out['tcp']['server'] = tcp_entry(server)
    client.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, 0x10)  # --tos: tos:0x10 (and class_id)

    # FIN-WAIT-2 (closer) and CLOSE-WAIT (the side that keeps its end open).
    closer = socket.create_connection(('127.0.0.1', port))
    kept, _ = lst.accept()
    keep += [kept]
    out['tcp']['closeWait'] = tcp_entry(kept)
    out['tcp']['finWait2'] = {'local': closer.getsockname()[:2]}
    closer.shutdown(socket.SHUT_WR)
    keep.append(closer)  # half-closed, still held: FIN-WAIT-2 with an fd

    # TIME-WAIT: the client closes first, then the server.
    tw = socket.create_connection(('127.0.0.1', port))
    tw_server, _ = lst.accept()
    out['tcpTimeWait'] = {'local': tw.getsockname()[:2]}
    tw.close()
    time.sleep(0.05)
    tw_server.close()

    # Left in the accept queue: the listener's Recv-Q is 1.
    pending = socket.create_connection(('127.0.0.1', port))
    keep.append(pending)
    out['tcp']['pending'] = tcp_entry(pending)

    # TCP over IPv6: a listener on ::1 and a connection to it.
    try:
        lst6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        lst6.bind(('::1', 0))
        lst6.listen(8)
        c6 = socket.create_connection(('::1', lst6.getsockname()[1]))
        s6, _ = lst6.accept()
        keep += [lst6, c6, s6]
        # A dual-stack listener on :: (IPV6_V6ONLY off), which ss prints as *:port.
        dual = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        dual.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        dual.bind(('::', 0))
        dual.listen(8)
        keep.append(dual)
        out['tcp']['dual'] = tcp_entry(dual)
        out['tcp']['listener6'] = tcp_entry(lst6)
        out['tcp']['client6'] = tcp_entry(c6)
        out['tcp']['server6'] = tcp_entry(s6)
    except OSError as e:
        out['ipv6Error'] = str(e)

    # UDP: a bound socket (UNCONN) with one unread datagram, a connected one (ESTAB), an IPv6 one.
    u1 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u1.bind(('127.0.0.1', 0))
    u2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u2.connect(u1.getsockname())
    u2.send(b'x' * 100)
    u2.setsockopt(socket.IPPROTO_IP, 11, 1)  # IP_RECVERR: --inet-sockopt shows recverr
    keep += [u1, u2]
    out['udp']['bound'] = tcp_entry(u1)
    out['udp']['connected'] = tcp_entry(u2)
    if 'ipv6Error' not in out:
        u6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        u6.bind(('::1', 0))
        u6.setsockopt(socket.IPPROTO_IPV6, 67, 0x20)  # IPV6_TCLASS: --tos shows tclass:0x20
        keep.append(u6)
        out['udp']['bound6'] = tcp_entry(u6)

    # UNIX: a path listener with a connection, a dgram socket, an unnamed pair and an
    # abstract name with an escape sequence and a byte that is not UTF-8.
    def unix_entry(s, name):
        return {'inode': ino(s), 'fd': s.fileno(), 'name': name}

    path = os.path.join(directory, 'stream.sock')
    ul = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ul.bind(path)
    ul.listen(8)
    uc = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    uc.connect(path)
    us, _ = ul.accept()
    uc.sendall(b'u' * 200)  # us's Recv-Q: 200
    keep += [ul, uc, us]
    out['unix']['listener'] = unix_entry(ul, path)
    out['unix']['client'] = unix_entry(uc, None)
    out['unix']['server'] = unix_entry(us, path)

    dpath = os.path.join(directory, 'dgram.sock')
    ud = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ud.bind(dpath)
    keep.append(ud)
    out['unix']['dgram'] = unix_entry(ud, dpath)

    pa, pb = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    keep += [pa, pb]
    out['unix']['pairA'] = unix_entry(pa, None)
    out['unix']['pairB'] = unix_entry(pb, None)

    evil = b'\0sockdiag-\x1b[31m-\xff-end'
    ue = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ue.bind(evil)
    ue.listen(1)
    keep.append(ue)
    out['unix']['escaped'] = unix_entry(ue, evil.hex())

    # MPTCP: a listener and one connection, when the kernel has MPTCP (IPPROTO_MPTCP = 262).
    try:
        ml = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
        ml.bind(('127.0.0.1', 0))
        ml.listen(8)
        mc = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
        mc.connect(ml.getsockname())
        ms, _ = ml.accept()
        keep += [ml, mc, ms]
        out['mptcp'] = {'listener': tcp_entry(ml), 'client': tcp_entry(mc), 'server': tcp_entry(ms)}
    except OSError as e:
        out['mptcpError'] = str(e)

    # PACKET: one of every protocol (ETH_P_ALL), one of IPv4 bound to lo, one of none (0).
    packets = [(socket.SOCK_RAW, 0x0003, None), (socket.SOCK_RAW, 0x0800, 'lo'), (socket.SOCK_DGRAM, 0, None)]
    out['packet'] = []
    for kind, proto, dev in packets:
        p = socket.socket(socket.AF_PACKET, kind, socket.htons(proto))
        if dev:
            p.bind((dev, proto))
        keep.append(p)
        out['packet'].append({'proto': proto, 'dev': dev or '*', 'inode': ino(p)})
    # And one with what ss -e shows of a packet socket: PACKET_AUXDATA (flags), a fanout group
    # in rollover mode, and a receive ring (TPACKET_V1: 4 blocks of 4096 bytes, 2048-byte frames).
    SOL_PACKET, PACKET_RX_RING, PACKET_AUXDATA, PACKET_FANOUT = 263, 5, 8, 18
    p = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    p.bind(('lo', 0x0003))
    p.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    p.setsockopt(SOL_PACKET, PACKET_FANOUT, 7 | (3 << 16))
    p.setsockopt(SOL_PACKET, PACKET_RX_RING, struct.pack('IIII', 4096, 4, 2048, 8))
    # ... and a classic BPF program (ss -b): ldh [12]; ret #262144.
    SO_ATTACH_FILTER = 26
    program = ctypes.create_string_buffer(struct.pack('HBBI', 0x28, 0, 0, 12) + struct.pack('HBBI', 0x06, 0, 0, 262144))
    p.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, struct.pack('HL', 2, ctypes.addressof(program)))
    keep.append(p)
    out['packet'].append({'proto': 0x0003, 'dev': 'lo', 'inode': ino(p)})

    # NETLINK: a route socket, whose port id the kernel sets to this process's pid.
    nl = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    nl.bind((0, 0))
    keep.append(nl)
    out['netlink'] = {'portid': nl.getsockname()[0], 'pid': os.getpid()}
    # And one in multicast groups 1 and 3 (RTMGRP_LINK, RTMGRP_NEIGH): ss -e prints groups=0x00000005.
    nlg = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    nlg.bind((0, 0x5))
    keep.append(nlg)
    # And one connected to the first (ss prints its default destination as the peer, 0:PORTID).
    nlc = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    nlc.bind((0, 0))
    nlc.connect((nl.getsockname()[0], 0))
    keep.append(nlc)

    # Many connections for the streaming test.
    for _ in range(many):
        c = socket.create_connection(('127.0.0.1', port))
        a, _ = lst.accept()
        keep += [c, a]
    out['many'] = many

    # A second thread with a name of its own, so that -T lists each socket once per thread.
    named = threading.Event()
    def idle_thread():
        ctypes.CDLL(None).prctl(15, b'cli-helper-2', 0, 0, 0)  # PR_SET_NAME
        out['thread'] = {'tid': threading.get_native_id(), 'name': 'cli-helper-2'}
        named.set()
        threading.Event().wait()
    threading.Thread(target=idle_thread, daemon=True).start()
    named.wait()

    # Let the last ACKs settle so that every Send-Q is 0 before anyone looks.
    time.sleep(0.1)
    sys.stdout.write(json.dumps(out) + '\n')
    sys.stdout.flush()
    try:
        sys.stdin.read()
    except KeyboardInterrupt:
        pass


main()
