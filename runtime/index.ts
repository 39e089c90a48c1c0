/** The hand-written runtime: netlink sockets, network namespaces and the errors they throw. */
export { DecodeError } from './codec.js';
export { NetlinkError, SyscallError, type NetlinkErrorDetails } from './errors.js';
export { NetlinkSocket, parseMessages, type NetlinkMessage, type OpenOptions, type ReplyEnd } from './netlink-socket.js';
export { withNetns, type NetnsSpec } from './netns.js';
export { readerThreadReady, readerThreadStats, startReaderThread, type ReaderThreadStats } from './reader-thread.js';
