/**
 * Compiles a filter AST to an inet_diag bytecode program (INET_DIAG_REQ_BYTECODE),
 * the way the kernel's `inet_diag_bc_run` reads it and `inet_diag_bc_audit` accepts it.
 *
 * Every op falls through on "yes" (the audit walks the yes-chain, so all ops lie on
 * it) and jumps on "no". A compiled piece matches when control falls off its end and
 * fails when it jumps to the reject target, 4 bytes past the program's end.
 * `a or b` is `a` with its failures sent to `b`, then a JMP over `b`; `not a` is `a`
 * with its failures sent past a closing JMP that rejects.
 *
 * Conditions the kernel cannot test (a name that does not resolve, a mark without
 * CAP_NET_ADMIN) are relaxed into "true" or "false", whichever makes the kernel's
 * answer a superset, and the whole AST is then evaluated again in user space.
 *
 * The program travels as one netlink attribute, whose length (header included) is a
 * u16, and its jumps are u16 offsets: a program longer than {@link MAX_BYTECODE_LENGTH}
 * cannot be sent, and the whole filter then runs in user space.
 */
import {
  encodeInetDiagBcOp,
  encodeInetDiagHostcond,
  encodeInetDiagMarkcond,
  InetDiagBcCode,
  inetDiagBcCodeName,
  decodeInetDiagBcOp,
  decodeInetDiagHostcond,
  decodeInetDiagMarkcond,
  INET_DIAG_BC_OP_SIZE,
  INET_DIAG_HOSTCOND_SIZE,
} from '../../generated/inet_diag.js';
import { NLA_HDRLEN } from '../../generated/netlink.js';
import { AddressFamily, addressFamilyName } from '../../generated/socket.js';
import { LE, formatInetAddress } from '../../runtime/codec.js';
import { and, not, or, type FilterNode, type HostNode, type PortNode } from './ast.js';
import { formatFilter } from './format.js';
import { lookupCgroupId, lookupIfindex } from './system.js';

/**
 * The longest program the kernel can be sent: INET_DIAG_REQ_BYTECODE's length, its
 * 4-byte header included, is a u16 (and so are the ops' jump offsets, which reach at
 * most 4 bytes past the program's end).
 */
export const MAX_BYTECODE_LENGTH = 0xffff - NLA_HDRLEN;

/** Where a compiled filter runs. */
export interface FilterPlan {
  /**
   * The bytecode for the kernel; undefined when the kernel cannot narrow the dump (no
   * condition it can test, or a program longer than {@link MAX_BYTECODE_LENGTH}).
   */
  bytecode?: Uint8Array;
  /** The part the kernel tests (the AST with untestable conditions relaxed), or null. */
  kernel: FilterNode | null;
  /** The AST user space must test on what the kernel returns, or null when the kernel's answer is exact. */
  userspace: FilterNode | null;
  /** True when the kernel returns nothing at all (the relaxed filter is always false). */
  empty: boolean;
  /** The kernel program tests a mark, which the kernel allows only with CAP_NET_ADMIN. */
  needsNetAdmin: boolean;
}

/** What the compiler may ask of the kernel. */
export interface CompileOptions {
  /** Mark conditions need CAP_NET_ADMIN; without it they run in user space. Default true. */
  mark?: boolean;
  ifindex?: (name: string) => number | undefined;
  cgroupId?: (path: string) => bigint | undefined;
}

const TRUE = { kind: 'true' } as const;
const FALSE = { kind: 'false' } as const;
type Relaxed = FilterNode | typeof TRUE | typeof FALSE;

/** Splits a filter into the kernel's bytecode and what user space must check. */
export function planFilter(node: FilterNode, options: CompileOptions = {}): FilterPlan {
  let exact = true;
  let needsNetAdmin = false;
  const leaf = (n: FilterNode, positive: boolean): Relaxed => {
    // An INET dump holds no UNIX socket: a name pattern is exactly false there.
    if (n.kind === 'unix') return FALSE;
    if (testable(n, options)) {
      needsNetAdmin ||= n.kind === 'mark';
      return n;
    }
    exact = false;
    return positive ? TRUE : FALSE;
  };
  const relaxed = relax(node, true, leaf);
  if (relaxed.kind === 'true') return { kernel: null, userspace: exact ? null : node, empty: false, needsNetAdmin: false };
  if (relaxed.kind === 'false') return { kernel: null, userspace: null, empty: true, needsNetAdmin: false };
  const bytecode = assemble(emit(relaxed, options));
  // Too long to send: its length and jumps would wrap, and the kernel would refuse it or
  // run what the wrapped length leaves of it. User space tests the whole filter instead.
  if (bytecode.length > MAX_BYTECODE_LENGTH) return { kernel: null, userspace: node, empty: false, needsNetAdmin: false };
  return { bytecode, kernel: relaxed, userspace: exact ? null : node, empty: false, needsNetAdmin };
}

/** Whether the kernel can test a leaf as the user means it. */
function testable(n: FilterNode, o: CompileOptions): boolean {
  switch (n.kind) {
    case 'mark':
      return o.mark ?? true;
    case 'dev':
      return typeof n.dev === 'number' || (o.ifindex ?? lookupIfindex)(n.dev) !== undefined;
    case 'cgroup':
      return typeof n.cgroup === 'bigint' || (o.cgroupId ?? lookupCgroupId)(n.cgroup) !== undefined;
    default:
      return true;
  }
}

/** Replaces untestable leaves by constants and folds the constants away. */
function relax(n: FilterNode, positive: boolean, leaf: (n: FilterNode, positive: boolean) => Relaxed): Relaxed {
  switch (n.kind) {
    case 'not': {
      const a = relax(n.arg, !positive, leaf);
      return a.kind === 'true' ? FALSE : a.kind === 'false' ? TRUE : not(a);
    }
    case 'and':
    case 'or': {
      const absorbing = n.kind === 'and' ? 'false' : 'true';
      const kept: FilterNode[] = [];
      for (const arg of n.args) {
        const a = relax(arg, positive, leaf);
        if (a.kind === absorbing) return a.kind === 'true' ? TRUE : FALSE;
        if (a.kind !== 'true' && a.kind !== 'false') kept.push(a);
      }
      if (kept.length === 0) return n.kind === 'and' ? TRUE : FALSE;
      if (kept.length === 1) return kept[0]!;
      return n.kind === 'and' ? and(kept[0]!, kept[1]!, ...kept.slice(2)) : or(kept[0]!, kept[1]!, ...kept.slice(2));
    }
    default:
      return leaf(n, positive);
  }
}

/** A jump target: the reject target past the program's end, or a label. */
type Target = 'reject' | Label;
interface Label {
  readonly label: true;
}
interface Op {
  code: number;
  no: Target;
  data: Uint8Array;
}
type Item = Op | Label;

const isLabel = (i: Item | Target): i is Label => typeof i === 'object' && 'label' in i;
const label = (): Label => ({ label: true });
const op = (code: number, data: Uint8Array = new Uint8Array(0)): Op => ({ code, no: 'reject', data });

/** Sends every failure of `items` to `target`. */
function redirect(items: Item[], target: Label): Item[] {
  for (const i of items) if (!isLabel(i) && i.no === 'reject') i.no = target;
  return items;
}

function emit(n: FilterNode, o: CompileOptions): Item[] {
  switch (n.kind) {
    case 'and':
      return n.args.flatMap((a) => emit(a, o));
    case 'or':
      return n.args.slice(1).reduce((left, right) => {
        const next = label();
        const end = label();
        const jmp = op(InetDiagBcCode.jmp);
        jmp.no = end;
        return [...redirect(left, next), jmp, next, ...emit(right, o), end];
      }, emit(n.args[0]!, o));
    case 'not': {
      const end = label();
      return [...redirect(emit(n.arg, o), end), op(InetDiagBcCode.jmp), end];
    }
    case 'port':
      return port(n);
    case 'host':
      return [host(n.side, n)];
    case 'dev':
      return [op(InetDiagBcCode['dev-cond'], u32(typeof n.dev === 'number' ? n.dev : (o.ifindex ?? lookupIfindex)(n.dev)!))];
    case 'mark':
      return [op(InetDiagBcCode['mark-cond'], encodeInetDiagMarkcond({ mark: n.value, mask: n.mask }))];
    case 'cgroup': {
      const id = typeof n.cgroup === 'bigint' ? n.cgroup : (o.cgroupId ?? lookupCgroupId)(n.cgroup)!;
      const data = new Uint8Array(8);
      new DataView(data.buffer).setBigUint64(0, id, LE);
      return [op(InetDiagBcCode['cgroup-cond'], data)];
    }
    case 'autobound':
      return [op(InetDiagBcCode.auto)];
    case 'unix':
      throw new Error('unreachable: planFilter folds UNIX name patterns to false');
  }
}

/** Port comparisons: `=` as a host condition with any address, `<=`/`>=` as LE/GE, the rest negated. */
function port(n: PortNode): Item[] {
  const src = n.side === 'src';
  const compare = (code: number) => [op(code, encodeInetDiagBcOp({ code: 0, yes: 0, no: n.port }))];
  switch (n.op) {
    case '=':
      return [host(n.side, { prefix: null, port: n.port })];
    case '>=':
      return compare(src ? InetDiagBcCode['s-ge'] : InetDiagBcCode['d-ge']);
    case '<=':
      return compare(src ? InetDiagBcCode['s-le'] : InetDiagBcCode['d-le']);
    case '!=':
      return emit(not({ ...n, op: '=' }), {});
    case '<':
      return emit(not({ ...n, op: '>=' }), {});
    case '>':
      return emit(not({ ...n, op: '<=' }), {});
  }
}

function host(side: 'src' | 'dst', n: Pick<HostNode, 'prefix' | 'port'>): Op {
  const family = n.prefix ? AddressFamily[n.prefix.family] : AddressFamily.unspec;
  const cond = encodeInetDiagHostcond({ family, prefixLen: n.prefix?.prefixLength ?? 0, port: n.port ?? -1 });
  const data = new Uint8Array(cond.length + (n.prefix?.bytes.length ?? 0));
  data.set(cond);
  if (n.prefix) data.set(n.prefix.bytes, cond.length);
  return op(side === 'src' ? InetDiagBcCode['s-cond'] : InetDiagBcCode['d-cond'], data);
}

function u32(value: number): Uint8Array {
  const data = new Uint8Array(4);
  new DataView(data.buffer).setUint32(0, value >>> 0, LE);
  return data;
}

/** Lays the ops out and resolves jumps: yes falls through, no jumps to its target. */
function assemble(items: Item[]): Uint8Array {
  const at = new Map<Item, number>();
  let size = 0;
  for (const i of items) {
    at.set(i, size);
    if (!isLabel(i)) size += INET_DIAG_BC_OP_SIZE + i.data.length;
  }
  const out = new Uint8Array(size);
  for (const i of items) {
    if (isLabel(i)) continue;
    const p = at.get(i)!;
    const length = INET_DIAG_BC_OP_SIZE + i.data.length;
    const target = i.no === 'reject' ? size + INET_DIAG_BC_OP_SIZE : at.get(i.no)!;
    out.set(encodeInetDiagBcOp({ code: i.code, yes: length, no: target - p }), p);
    out.set(i.data, p + INET_DIAG_BC_OP_SIZE);
  }
  return out;
}

/** The program as readable lines, one op each: offset, op, jumps and operands. */
export function explainBytecode(program: Uint8Array): string[] {
  const view = new DataView(program.buffer, program.byteOffset, program.byteLength);
  const lines: string[] = [];
  for (let p = 0; p + INET_DIAG_BC_OP_SIZE <= program.length; ) {
    const o = decodeInetDiagBcOp(view, p, INET_DIAG_BC_OP_SIZE);
    const name = inetDiagBcCodeName(o.code) ?? `op-${o.code}`;
    const end = (rel: number) => (p + rel === program.length ? 'accept' : p + rel > program.length ? 'reject' : `@${p + rel}`);
    const jumps = o.code === InetDiagBcCode.jmp ? `goto ${end(o.no)}` : `yes ${end(o.yes)} no ${end(o.no)}`;
    lines.push(`${String(p).padStart(4)}: ${name.padEnd(11)} ${jumps}${operands(o.code, view, p + INET_DIAG_BC_OP_SIZE, o.yes - INET_DIAG_BC_OP_SIZE)}`);
    p += o.code === InetDiagBcCode.jmp || o.yes < INET_DIAG_BC_OP_SIZE ? INET_DIAG_BC_OP_SIZE : o.yes;
  }
  return lines;
}

function operands(code: number, view: DataView, at: number, length: number): string {
  switch (code) {
    case InetDiagBcCode['s-cond']:
    case InetDiagBcCode['d-cond']: {
      const c = decodeInetDiagHostcond(view, at, INET_DIAG_HOSTCOND_SIZE);
      const bytes = length - INET_DIAG_HOSTCOND_SIZE;
      const addr = bytes > 0 ? `${formatInetAddress(view, at + INET_DIAG_HOSTCOND_SIZE, bytes)}/${c.prefixLen}` : '*';
      return ` (${addressFamilyName(c.family) ?? c.family} ${addr} port ${c.port === -1 ? '*' : c.port})`;
    }
    case InetDiagBcCode['s-ge']:
    case InetDiagBcCode['s-le']:
    case InetDiagBcCode['d-ge']:
    case InetDiagBcCode['d-le']:
      return ` (port ${decodeInetDiagBcOp(view, at, INET_DIAG_BC_OP_SIZE).no})`;
    case InetDiagBcCode['dev-cond']:
      return ` (ifindex ${view.getUint32(at, LE)})`;
    case InetDiagBcCode['mark-cond']: {
      const m = decodeInetDiagMarkcond(view, at, length);
      return ` (mark 0x${m.mark.toString(16)}/0x${m.mask.toString(16)})`;
    }
    case InetDiagBcCode['cgroup-cond']:
      return ` (cgroup ${view.getBigUint64(at, LE)})`;
    default:
      return '';
  }
}

/** A one-line description of a plan, for `--explain`. */
export function describePlan(plan: FilterPlan): string {
  if (plan.empty) return 'kernel: nothing can match';
  return `kernel: ${plan.kernel ? formatFilter(plan.kernel) : '(no filter)'}; user space: ${plan.userspace ? formatFilter(plan.userspace) : '(nothing left to check)'}`;
}
