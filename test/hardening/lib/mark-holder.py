"""Holds sockets for test/hardening/privilege.test.ts, run as root inside a namespace:
a TCP listener and one connection to it, both ends with SO_MARK 42 (which only
CAP_NET_ADMIN may set, and which the kernel reports only to CAP_NET_ADMIN), and a
UNIX listener. Prints one JSON line describing them, then "ready", then waits for
stdin to close."""
import json
import os
import socket
import sys

SO_MARK = 36
MARK = 42


def inode(s):
    return int(os.readlink("/proc/self/fd/%d" % s.fileno())[len("socket:["):-1])


listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, SO_MARK, MARK)
listener.bind(("127.0.0.1", 0))
listener.listen(4)
client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
client.setsockopt(socket.SOL_SOCKET, SO_MARK, MARK)
client.connect(listener.getsockname())
server, _ = listener.accept()
server.setsockopt(socket.SOL_SOCKET, SO_MARK, MARK)
ux = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
ux.bind(b"\0sockdiag-hardening-privilege-%d" % os.getpid())
ux.listen(1)
print(json.dumps({
    "port": listener.getsockname()[1],
    "inodes": [inode(s) for s in (listener, client, server)],
    "unix": inode(ux),
    "mark": MARK,
}))
print("ready", flush=True)
sys.stdin.read()
