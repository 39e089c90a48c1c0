/** The `--help` text: every flag, with examples. */
export const HELP = `Usage: sockdiag [OPTIONS] [state NAME | exclude NAME]... [FILTER]

List the kernel's sockets through NETLINK_SOCK_DIAG, the way ss does.

Which sockets (default: connected sockets of every table):
  -t, --tcp            TCP sockets                     sockdiag -t
  -u, --udp            UDP sockets                     sockdiag -u
  -w, --raw            RAW sockets                     sockdiag -w
  -x, --unix           UNIX domain sockets             sockdiag -x
  -M, --mptcp          MPTCP sockets                   sockdiag -M
  -S, --sctp           SCTP sockets                    sockdiag -S
  -0, --packet         PACKET sockets                  sockdiag -0
      --netlink        NETLINK sockets                 sockdiag --netlink
      --xdp, --vsock, --smc, --tipc
                       AF_XDP, VSOCK, SMC and TIPC sockets (where the
                       kernel has their diag modules)  sockdiag --vsock
  -4, --ipv4           only IPv4 sockets               sockdiag -t4
  -6, --ipv6           only IPv6 sockets               sockdiag -t6
  -f, --family FAMILY  inet, inet6 or unix             sockdiag -f inet6
  -A, --query TABLES   all, inet, tcp, udp, raw, mptcp, sctp, unix (unix_stream,
                       unix_dgram, unix_seqpacket), packet (packet_raw,
                       packet_dgram), netlink, xdp, vsock (vsock_stream,
                       vsock_dgram), smc, tipc (comma-separated)
                                                       sockdiag -A tcp,unix
  -l, --listening      only listening sockets          sockdiag -tl
  -a, --all            sockets in every state          sockdiag -ta
  state NAME           only this state (repeatable): established, syn-sent,
                       syn-recv, fin-wait-1, fin-wait-2, time-wait, closed,
                       close-wait, last-ack, listening, closing, or a group:
                       all, connected, synchronized, bucket, big
                                                       sockdiag -t state established
  exclude NAME         all states but this one         sockdiag -t exclude listening
  -N, --net NAME       look inside network namespace NAME (or a path to one)
                                                       sockdiag -N blue -ta
  -F, --filter FILE    read the FILTER expression (more of it) from FILE, '-'
                       for standard input; lines starting with # are comments
                                                       sockdiag -t -F web.filter
  -D, --diag FILE      write the kernel's TCP replies, raw (netlink messages), to
                       FILE ('-': standard output) instead of a listing
                                                       sockdiag -t -D tcp.raw
  -K, --kill           destroy the sockets listed (needs CAP_NET_ADMIN); needs a
                       filter, a state, or -a to mean every one
                                                       sockdiag -K dport = :8080
  -E, --events         print sockets as the kernel destroys them, until Ctrl-C
                                                       sockdiag -E -t

What to show:
  -e, --extended       uid, inode, cookie, mark, cgroup, v6only, shutdown
                                                       sockdiag -te
  -i, --info           TCP internals: rtt, rto, cwnd, ssthresh, mss, rates,
                       congestion control and its vegas/dctcp/bbr state
                                                       sockdiag -ti
  -m, --memory         socket memory (skmem)           sockdiag -tm
  -o, --options        timers                          sockdiag -to
  -O, --oneline        -i and -m details on the socket's own line
                                                       sockdiag -tiO
  -p, --processes      processes using each socket     sockdiag -tp
  -T, --threads        threads using each socket, with their ids (implies -p)
                                                       sockdiag -tlT
  -b, --bpf            a PACKET socket's classic BPF filter (needs
                       CAP_NET_ADMIN)                  sockdiag -0b
      --tos            TOS, traffic class and class id of INET sockets
                                                       sockdiag -t --tos
      --cgroup         the cgroup of INET sockets      sockdiag -t --cgroup
      --inet-sockopt   the INET socket options that are on (recverr,
                       freebind, transparent, ...)     sockdiag -t --inet-sockopt
  -n, --numeric        numeric ports (the default)     sockdiag -tn
  -r, --resolve        service names for ports, from /etc/services
                                                       sockdiag -tr
  -H, --no-header      no header line                  sockdiag -tH
  -s, --summary        counts of sockets by table and state
                                                       sockdiag -s
      --json           one JSON document (an array of sockets)
                                                       sockdiag -ti --json
      --ndjson         one JSON object per line, as the dump arrives
                                                       sockdiag -ta --ndjson
      --explain        print how the filter is split between the kernel and
                       user space, and the kernel's bytecode, then exit
                                                       sockdiag --explain 'sport = :22'
  -h, --help           this text
  -V, --version        the version

FILTER is an ss filter expression:
  sockdiag -t 'sport = :22'
  sockdiag -t 'dport != :443 and dst 10.0.0.0/8'
  sockdiag -t '( sport >= :1024 or src [::1] ) and not dport = :80'
  sockdiag -x src '/tmp/.X11-unix/*'
The kernel tests what its bytecode can express; the rest is tested here. UNIX
sockets match fnmatch(3) patterns on their name (src) and their peer's (dst),
written bare when only UNIX sockets are listed, else as src unix:PATTERN.

Exit status: 0 on success, 1 when the kernel refused a socket or a query or the output
could not be written, 2 for a bad command line.
`;
