"""The static socket set of the kernel-filter tests (test/filter-kernel), opened inside
a private network namespace (run under `ip netns exec`; see filter-netns.ts).

It opens TCP listeners, about 200 TCP connections and a set of UDP sockets on varied
addresses and ports, prints one JSON line describing every socket it holds, then keeps
them all open, untouched, until its standard input closes. Nothing is closed before
that, so no socket goes to TIME-WAIT while the tests run.

The namespace must have 127.0.0.0/8 on lo, and fd00::1, fd00::2 (nodad) and 10.77.0.1
on the interface named by argv[1] (default flt0).

Each socket is described as
  {"proto": "tcp"|"udp", "family": 4|6, "inode": N, "local": [addr, port],
   "peer": [addr, port] | null, "autobound": bool, "role": "..."}
where `autobound` is the kernel's meaning of ss's `autobound` (INET_DIAG_BC_AUTO): the
socket's SOCK_BINDPORT_LOCK is not set, i.e. no explicit non-zero port was given to
bind(). Accepted sockets are clones of their listener, but sk_clone_lock() clears the
lock on the clone, so they are all autobound, even on a listener's fixed port.
"""
import json
import os
import socket
import sys
import time

SO_MARK = getattr(socket, "SO_MARK", 36)
SO_BINDTODEVICE = getattr(socket, "SO_BINDTODEVICE", 25)
DEV = sys.argv[1] if len(sys.argv) > 1 else "flt0"

held = []
described = []


def inode(s):
    link = os.readlink("/proc/self/fd/%d" % s.fileno())
    return int(link[len("socket:["):-1])


def keep(s, proto, autobound, role):
    held.append(s)
    local = s.getsockname()
    try:
        peer = s.getpeername()
    except OSError:
        peer = None
    described.append({
        "proto": proto,
        "family": 6 if s.family == socket.AF_INET6 else 4,
        "inode": inode(s),
        "local": [local[0], local[1]],
        "peer": [peer[0], peer[1]] if peer else None,
        "autobound": autobound,
        "role": role,
    })
    return s


def make(family, kind, bind=None, v6only=None, mark=None, device=None):
    s = socket.socket(socket.AF_INET6 if family == 6 else socket.AF_INET, kind)
    if family == 6 and v6only is not None:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1 if v6only else 0)
    if mark is not None:
        s.setsockopt(socket.SOL_SOCKET, SO_MARK, mark)
    if device is not None:
        s.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, device.encode())
    if bind is not None:
        s.bind(bind)
    return s


listeners = {}


def listen(name, family, addr, port, **opts):
    s = make(family, socket.SOCK_STREAM, bind=(addr, port), **opts)
    s.listen(512)
    listeners[name] = s
    keep(s, "tcp", port == 0, "listener " + name)
    return s


def connect(listener, family, dst, src=None, shutdown=False, **opts):
    """A connection to `listener` at `dst`, from `src` (none: connect() picks; port 0: bind() picks)."""
    lst = listeners[listener]
    c = make(family, socket.SOCK_STREAM, bind=src, **opts)
    c.connect((dst, lst.getsockname()[1]))
    a, _ = lst.accept()
    if shutdown:
        # The client sends FIN: client FIN-WAIT-2, server CLOSE-WAIT (both stay there).
        c.shutdown(socket.SHUT_WR)
    keep(c, "tcp", src is None or src[1] == 0, "client of " + listener)
    # sk_clone_lock() clears SOCK_BINDPORT_LOCK on the child: accepted sockets are
    # autobound for the kernel whatever their listener was bound to.
    keep(a, "tcp", True, "accepted by " + listener)


def udp(family, addr, port, connect_to=None, role="udp", **opts):
    s = make(family, socket.SOCK_DGRAM, bind=(addr, port), **opts)
    if connect_to is not None:
        s.connect(connect_to)
    keep(s, "udp", port == 0, role)
    return s


def main():
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        low, high = (int(x) for x in f.read().split())

    # --- TCP listeners: explicit ports first (1..65535 spread), so that no port the
    # kernel picks later collides with them.
    listen("any4", 4, "0.0.0.0", 1000)
    listen("lo1", 4, "127.0.0.1", 2500)
    listen("lo2", 4, "127.0.0.2", 4000)
    listen("lo3", 4, "127.0.0.3", 5500)
    listen("dual", 6, "::", 7000, v6only=False)        # dual-stack: v4 clients appear v4-mapped
    listen("any6only", 6, "::", 8500, v6only=True)
    listen("v6lo", 6, "::1", 10000)
    listen("ula1", 6, "fd00::1", 11500)
    listen("ula2", 6, "fd00::2", 13000)
    listen("flt", 4, "10.77.0.1", 14500)
    listen("mapped", 6, "::ffff:127.0.0.4", 16000, v6only=False)  # an IPv6 socket bound to a v4-mapped address
    listen("devlo", 4, "127.0.0.5", 17500, device="lo")
    listen("devflt", 4, "10.77.0.1", 19000, device=DEV)
    listen("mark", 4, "127.0.0.6", 20500, mark=0x10)
    listen("mark6", 6, "::1", 22000, mark=0x1234)
    listen("http4", 4, "127.0.0.1", 80)
    listen("http6", 6, "::1", 80)
    listen("low", 4, "127.0.0.9", 1)
    listen("high", 6, "::1", 65535)
    listen("lo30k", 4, "127.0.0.10", 30000)
    # Explicit port inside the ephemeral range: not autobound for the kernel, though
    # the port looks like one the kernel would pick.
    listen("ephem", 4, "127.0.0.7", 40000)

    # Explicitly bound client ports (locked): below and inside the ephemeral range.
    for i in range(5):
        connect("lo1", 4, "127.0.0.1", src=("127.0.0.20", 25001 + i))
    for i in range(3):
        connect("lo1", 4, "127.0.0.1", src=("127.0.0.21", 45000 + i))
    connect("v6lo", 6, "::1", src=("::1", 46000))
    connect("ephem", 4, "127.0.0.7", src=("127.0.0.22", 26000))
    connect("ephem", 4, "127.0.0.7")

    # UDP with explicit ports.
    udp(4, "127.0.0.1", 3000, role="udp lo1")
    udp(4, "0.0.0.0", 3100, role="udp any4")
    udp(6, "::1", 3001, role="udp v6lo")
    udp(6, "::", 3002, v6only=False, role="udp dual")
    udp(6, "::", 3004, v6only=True, role="udp any6only")
    udp(6, "fd00::1", 3003, role="udp ula1")
    udp(6, "::ffff:127.0.0.4", 3005, v6only=False, role="udp mapped")
    udp(4, "127.0.0.1", 80, role="udp http4")
    udp(4, "10.77.0.1", 3006, device=DEV, role="udp devflt")
    udp(4, "127.0.0.5", 3008, device="lo", role="udp devlo")
    udp(4, "127.0.0.8", 3007, mark=0x10, role="udp mark")
    udp(4, "127.0.0.7", 41000, role="udp ephem")
    udp(4, "127.0.0.11", 3009, connect_to=("127.0.0.1", 80), role="udp to http4")

    # --- From here on the kernel picks the ports (autobound).
    listen("auto", 4, "127.0.0.8", 0)
    for i in range(4):
        connect("auto", 4, "127.0.0.8")

    # IPv4 over 127.0.0.x, x varied on both ends.
    for i in range(40):
        connect("any4", 4, "127.0.0.%d" % (100 + i % 7), src=("127.0.0.%d" % (30 + i % 40), 0))
    for i in range(20):
        connect("lo1", 4, "127.0.0.1", src=("127.0.0.%d" % (70 + i % 10), 0))
    for i in range(8):
        connect("lo2", 4, "127.0.0.2")
    for i in range(6):
        connect("http4", 4, "127.0.0.1", src=("127.0.0.%d" % (80 + i), 0))
    for i in range(4):
        connect("lo30k", 4, "127.0.0.10")
    for i in range(2):
        connect("low", 4, "127.0.0.9")
    for i in range(3):
        connect("flt", 4, "10.77.0.1")
    # IPv6 over ::1.
    for i in range(20):
        connect("v6lo", 6, "::1")
    for i in range(6):
        connect("http6", 6, "::1")
    for i in range(3):
        connect("high", 6, "::1")
    for i in range(8):
        connect("any6only", 6, "::1")
    # IPv6 over fd00::/64.
    for i in range(15):
        connect("ula1", 6, "fd00::1", src=("fd00::2", 0))
    for i in range(8):
        connect("ula2", 6, "fd00::2", src=("fd00::1", 0))
    for i in range(7):
        connect("any6only", 6, "fd00::1", src=("fd00::2", 0))
    # v4-mapped: IPv4 clients of the dual-stack listener (the accepted sockets are IPv6
    # with ::ffff:a.b.c.d on both ends), IPv6 clients of IPv4 listeners (the clients are),
    # and clients of the listener bound to ::ffff:127.0.0.4.
    for i in range(20):
        connect("dual", 4, "127.0.0.%d" % (1 + i % 3), src=("127.0.0.%d" % (90 + i % 5), 0))
    for i in range(8):
        connect("lo1", 6, "::ffff:127.0.0.1")
    for i in range(3):
        connect("mapped", 4, "127.0.0.4")
    for i in range(3):
        connect("dual", 6, "::1")
    # Marks, devices, half-closed connections.
    for i in range(3):
        connect("mark", 4, "127.0.0.6", mark=0x11)
    for i in range(2):
        connect("lo1", 4, "127.0.0.1", src=("127.0.0.23", 0), mark=0x20)
    for i in range(3):
        connect("devlo", 4, "127.0.0.5", src=("127.0.0.24", 0), device="lo")
    for i in range(2):
        connect("mark6", 6, "::1")
    for i in range(2):
        connect("lo3", 4, "127.0.0.3", src=("127.0.0.25", 0), shutdown=True)
    for i in range(2):
        connect("v6lo", 6, "::1", src=("::1", 0), shutdown=True)

    # UDP with ports the kernel picks.
    udp(4, "127.0.0.2", 0, role="udp auto")
    udp(4, "127.0.0.3", 0, connect_to=("127.0.0.1", 3000), role="udp auto connected")
    udp(6, "::1", 0, connect_to=("::1", 3001), role="udp6 auto connected")
    udp(6, "::", 0, v6only=False, connect_to=("::ffff:127.0.0.1", 3000), role="udp mapped connected")
    udp(6, "fd00::2", 0, connect_to=("fd00::1", 3003), role="udp ula connected")
    udp(6, "::1", 0, connect_to=("::1", 80), role="udp6 to port 80")

    # Let the handshakes' last ACKs and the FINs settle before anyone looks.
    time.sleep(0.2)
    sys.stdout.write(json.dumps({"ephemeral": [low, high], "sockets": described}) + "\n")
    sys.stdout.flush()
    try:
        sys.stdin.read()
    except KeyboardInterrupt:
        pass


main()
