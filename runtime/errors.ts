/**
 * Errors of the runtime: a failed system call, and an error reply from the kernel.
 * Malformed frames are reported as {@link DecodeError} (see codec.ts).
 */
import { constants } from 'node:os';
import { getSystemErrorMap } from 'node:util';

const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) if (!errnoNames.has(value)) errnoNames.set(value, name);

/** The symbolic name of an errno value (`EPERM`), or `E<number>` for one the platform does not name. */
function errnoCode(errno: number): string {
  return errnoNames.get(errno) ?? `E${errno}`;
}

/** `EPERM (operation not permitted)`: the name of an errno value (positive) and its text. */
export function describeErrno(errno: number): string {
  const text = getSystemErrorMap().get(-errno)?.[1];
  return text ? `${errnoCode(errno)} (${text})` : errnoCode(errno);
}

/** A system call made by the runtime failed. */
export class SyscallError extends Error {
  /** The errno value, positive (`os.constants.errno.EPERM`). */
  readonly errno: number;
  /** The errno name, e.g. `EPERM`. */
  readonly code: string;

  /**
   * @param syscall The name of the call that failed, e.g. `setns`.
   * @param errno The errno value it set.
   * @param context What the runtime was doing, put at the start of the message.
   */
  constructor(
    readonly syscall: string,
    errno: number,
    context?: string,
  ) {
    const what = `${syscall} failed with ${describeErrno(errno)}`;
    super(context ? `${context}: ${what}` : what);
    this.name = 'SyscallError';
    this.errno = errno;
    this.code = errnoCode(errno);
  }
}

/** What the kernel said about a failed request besides the error code. */
export interface NetlinkErrorDetails {
  /** The extended-ack message (NLMSGERR_ATTR_MSG). */
  extack?: string;
  /** Byte offset in the request of the attribute the kernel rejected (NLMSGERR_ATTR_OFFS). */
  extackOffset?: number;
  /** A description of the request that failed. */
  request?: string;
}

/** The kernel answered a request with an error (NLMSG_ERROR, or NLMSG_DONE with a negative code). */
export class NetlinkError extends Error {
  /** The errno value, positive. */
  readonly errno: number;
  /** The errno name, e.g. `EINVAL`. */
  readonly code: string;
  readonly extack?: string;
  readonly extackOffset?: number;
  readonly request?: string;

  constructor(errno: number, details: NetlinkErrorDetails = {}) {
    const request = details.request ? ` (${details.request})` : '';
    const extack = details.extack ? `: ${details.extack}` : '';
    const offset = details.extackOffset !== undefined ? ` at byte ${details.extackOffset} of the request` : '';
    super(`netlink request${request} failed with ${describeErrno(errno)}${extack}${offset}`);
    this.name = 'NetlinkError';
    this.errno = errno;
    this.code = errnoCode(errno);
    this.extack = details.extack;
    this.extackOffset = details.extackOffset;
    this.request = details.request;
  }
}
