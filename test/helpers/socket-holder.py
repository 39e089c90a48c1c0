"""A child process that opens the sockets a test asks for (UNIX stream, dgram and
seqpacket sockets, named, abstract or unnamed; MPTCP; anything Node cannot make) and
keeps them open until its standard input closes.

Same line protocol as socket-holder.mjs: one JSON request per line on stdin,
``{"id": N, "op": "...", ...args}``; one JSON reply per line on stdout. The first line
printed is ``{"ready": true, "pid": ..., "uid": ...}``. Sockets are named ``p1``,
``p2``, ... and described as ``{"sock", "fd", "inode", "name"?}``, the inode read from
/proc/self/fd/FD.
"""
import json
import os
import resource
import socket
import sys
import traceback

TYPES = {"stream": socket.SOCK_STREAM, "dgram": socket.SOCK_DGRAM, "seqpacket": socket.SOCK_SEQPACKET}
FAMILIES = {"unix": socket.AF_UNIX, "inet": socket.AF_INET, "inet6": socket.AF_INET6}
IPPROTO_MPTCP = getattr(socket, "IPPROTO_MPTCP", 262)

sockets = {}
counter = [0]


def new_name():
    counter[0] += 1
    return "p%d" % counter[0]


def inode_of(fd):
    link = os.readlink("/proc/self/fd/%d" % fd)
    if not (link.startswith("socket:[") and link.endswith("]")):
        raise ValueError("fd %d is not a socket: %s" % (fd, link))
    return int(link[len("socket:["):-1])


def address(spec):
    """A UNIX address from {"path": ...} or {"abstract": ...}; an INET one from [host, port]."""
    if spec is None:
        return None
    if isinstance(spec, list):
        return tuple(spec)
    if "path" in spec:
        return spec["path"]
    return b"\0" + spec["abstract"].encode()


def describe(name, s):
    out = {"sock": name, "fd": s.fileno(), "inode": inode_of(s.fileno())}
    if s.family == socket.AF_UNIX:
        local = s.getsockname()
        out["name"] = local.decode("latin-1").replace("\0", "@", 1) if isinstance(local, bytes) else local
    else:
        local = s.getsockname()
        out["localAddress"], out["localPort"] = local[0], local[1]
    return out


def keep(s):
    name = new_name()
    sockets[name] = s
    return describe(name, s)


def op_socket(req):
    """{"family": "unix", "type": "stream", "proto"?, "bind"?, "listen"?, "connect"?}"""
    s = socket.socket(FAMILIES[req.get("family", "unix")], TYPES[req.get("type", "stream")], req.get("proto", 0))
    try:
        if req.get("bind") is not None:
            s.bind(address(req["bind"]))
        if req.get("listen") is not None:
            s.listen(req["listen"])
        if req.get("connect") is not None:
            s.connect(address(req["connect"]))
    except BaseException:
        s.close()
        raise
    return keep(s)


def op_mptcp_listen(req):
    """An MPTCP listener on {"host"}."""
    family = socket.AF_INET6 if ":" in req["host"] else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM, IPPROTO_MPTCP)
    s.bind((req["host"], 0))
    s.listen(req.get("backlog", 8))
    return keep(s)


def op_pair(req):
    """A connected pair of unnamed sockets: {"type"}."""
    a, b = socket.socketpair(socket.AF_UNIX, TYPES[req.get("type", "stream")])
    return [keep(a), keep(b)]


def op_accept(req):
    conn, _ = sockets[req["sock"]].accept()
    return keep(conn)


def op_send(req):
    """Sends {"bytes"} bytes on {"sock"} (to {"to"} for an unconnected datagram socket)."""
    s = sockets[req["sock"]]
    data = b"x" * req["bytes"]
    if req.get("to") is not None:
        n = s.sendto(data, address(req["to"]))
    else:
        n = s.send(data)
    return {"sent": n}


def op_many_pairs(req):
    """{"count"} socketpairs of {"type"}; returns only how many sockets exist now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 2 * req["count"] + len(sockets) + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(want, soft), hard), hard))
    for _ in range(req["count"]):
        a, b = socket.socketpair(socket.AF_UNIX, TYPES[req.get("type", "stream")])
        sockets[new_name()] = a
        sockets[new_name()] = b
    return {"count": 2 * req["count"]}


def op_close(req):
    sockets.pop(req["sock"]).close()
    return {}


OPS = {
    "socket": op_socket,
    "mptcp-listen": op_mptcp_listen,
    "pair": op_pair,
    "accept": op_accept,
    "send": op_send,
    "many-pairs": op_many_pairs,
    "close": op_close,
}


def reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main():
    reply({"ready": True, "pid": os.getpid(), "uid": os.getuid()})
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        try:
            op = OPS[req["op"]]
            reply({"id": req.get("id"), "ok": True, "result": op(req)})
        except Exception as e:
            reply({"id": req.get("id"), "ok": False, "error": "%s: %s" % (type(e).__name__, e),
                   "errno": getattr(e, "errno", None), "trace": traceback.format_exc()})


main()
