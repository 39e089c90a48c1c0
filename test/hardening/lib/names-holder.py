"""Holds sockets with hostile names for test/hardening/cli-input.test.ts, inside a
namespace whose loopback was renamed to DEVICE (argv[1], hex):

- its own process name (comm) set to COMM (argv[2], hex), with ESC, CSI (0x9b) and DEL;
- UNIX sockets: an abstract name and a path name with terminal escapes, a C1 control,
  bytes that are not UTF-8 and a right-to-left override, and PAIRS (argv[3]) unnamed
  socketpairs, for output bigger than a pipe;
- a UDP socket and a TCP listener bound to DEVICE (SO_BINDTODEVICE), so the interface
  name shows in their addresses.

Prints one JSON line ({"pid", "inodes", "path"}), then "ready", then waits for stdin
to close.
"""
import ctypes
import json
import os
import socket
import sys
import tempfile

SO_BINDTODEVICE = 25
PR_SET_NAME = 15
device = bytes.fromhex(sys.argv[1])
comm = bytes.fromhex(sys.argv[2])
pairs = int(sys.argv[3])

ctypes.CDLL(None).prctl(PR_SET_NAME, ctypes.c_char_p(comm), 0, 0, 0)

HOSTILE = b"\x1b]0;pwned\x07\x1b[2J\x9b31m\xff\xfe\r\n\t\x7f" + "é".encode() + b"\xe2\x80\xae"
keep = []


def inode(s):
    return int(os.readlink("/proc/self/fd/%d" % s.fileno())[len("socket:["):-1])


abstract = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
abstract.bind(b"\0sockdiag-" + HOSTILE)
abstract.listen(1)
keep.append(abstract)

directory = tempfile.mkdtemp(prefix="sockdiag-names-")
path = os.path.join(directory.encode(), b"s-\x1b[31m\x07\x9b\xff")
named = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
named.bind(path)
keep.append(named)

for _ in range(pairs):
    keep.extend(socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM))

udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, device)
udp.bind(("127.0.0.1", 0))
keep.append(udp)
tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
tcp.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, device)
tcp.bind(("127.0.0.1", 0))
tcp.listen(1)
keep.append(tcp)

print(json.dumps({
    "pid": os.getpid(),
    "abstract": inode(abstract),
    "named": inode(named),
    "udp": [inode(udp), udp.getsockname()[1]],
    "tcp": [inode(tcp), tcp.getsockname()[1]],
}))
print("ready", flush=True)
try:
    sys.stdin.read()
finally:
    os.unlink(path)
    os.rmdir(directory)
