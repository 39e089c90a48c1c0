/**
 * The command line of the built command: bad input is one line on stderr and exit
 * status 2; --help documents every flag; --version; tables the kernel cannot list
 * when none were asked for are left out quietly, as ss does.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLAGS } from '../../cli/args.js';
import { bareNamespace, BIN, ROOT, sockdiag } from '../helpers/cli-netns.js';

let ns: ReturnType<typeof bareNamespace>;
beforeAll(() => {
  ns = bareNamespace();
});
afterAll(() => ns?.close());

/** Exit status 2, nothing on stdout, and exactly one line on stderr that matches `names`. */
function usageError(args: string[], names: RegExp): void {
  const r = sockdiag(args);
  expect(r.stdout, `stdout of ${args.join(' ')}`).toBe('');
  expect(r.stderr.split('\n'), `stderr of ${args.join(' ')}: ${r.stderr}`).toHaveLength(2); // one line and its newline
  expect(r.stderr.endsWith('\n')).toBe(true);
  expect(r.stderr).toMatch(/^sockdiag: /);
  expect(r.stderr).toMatch(names);
  expect(r.status, `exit status of ${args.join(' ')}`).toBe(2);
}

describe('bad input: one line on stderr naming the problem, exit status 2', () => {
  it('an unknown flag', () => usageError(['--no-such-flag'], /unknown option '--no-such-flag'/));
  it('an unknown short flag', () => usageError(['-t', '-Q'], /unknown option '-Q'/));
  it('a bad state name', () => usageError(['-t', 'state', 'sleeping'], /unknown state 'sleeping'/));
  it('a state word without a name', () => usageError(['-t', 'exclude'], /'exclude' needs a state name/));
  it('a bad family', () => usageError(['-f', 'ipx'], /unknown family 'ipx'/));
  it('a bad table for -A', () => usageError(['-A', 'tcp,dccp'], /unknown socket table 'dccp'/));
  it('a flag without its value', () => usageError(['-N'], /--net/));
  it('--json with --ndjson', () => usageError(['--json', '--ndjson'], /--json and --ndjson/));

  it('a missing namespace', () => {
    const missing = `sockdiag-cli-${process.pid}-missing`;
    usageError(['-N', missing, '-t'], new RegExp(`network namespace '${missing}' does not exist`));
  });

  it('a missing namespace given as a path', () => usageError(['-N', '/run/netns/sockdiag-cli-no/such', '-t'], /sockdiag-cli-no\/such/));

  it("a namespace name that cannot name one ('' or '..')", () => {
    usageError(['-N', '', '-t'], /namespace/);
    usageError(['-N', '..', '-t'], /namespace/);
  });
});

const strace = spawnSync('strace', ['-V']).status === 0;

describe(`a socket the kernel refuses: one line on stderr, exit status 1${strace ? '' : ' (skipped: needs strace, whose fault injection makes socket() fail)'}`, () => {
  /** The command, with its first socket() failing with EMFILE. */
  const refused = (args: string[]) => {
    const fault = ['-f', '--seccomp-bpf', '-qq', '-o', '/dev/null', '-e', 'trace=socket', '-e', 'inject=socket:error=EMFILE:when=1'];
    return spawnSync('strace', [...fault, process.execPath, BIN, ...args], { encoding: 'utf8', timeout: 30_000 });
  };
  const message = 'sockdiag: cannot open a NETLINK_SOCK_DIAG socket: socket failed with EMFILE (too many open files)\n';

  it.skipIf(!strace)('names the socket, not a stack trace', () => {
    const r = refused(['-tan']);
    expect([r.stdout, r.stderr, r.status]).toEqual(['', message, 1]);
  });

  it.skipIf(!strace)('in a namespace, names the socket too: the namespace was entered', () => {
    const r = refused(['-tan', '-N', ns.name]);
    expect([r.stdout, r.stderr, r.status]).toEqual(['', message, 1]);
  });
});

describe('--help', () => {
  const help = sockdiag(['--help']);

  it('prints the usage on stdout and exits 0', () => {
    expect(help.status).toBe(0);
    expect(help.stderr).toBe('');
    expect(help.stdout).toMatch(/^Usage: sockdiag /);
    expect(sockdiag(['-h']).stdout).toBe(help.stdout);
  });

  it.each(Object.entries(FLAGS))('documents --%s', (name, def) => {
    expect(help.stdout).toMatch(new RegExp(`(^|[\\s,])--${name}\\b`, 'm'));
    if ('short' in def) expect(help.stdout).toMatch(new RegExp(`(^|\\s)-${def.short},\\s+--${name}\\b`, 'm'));
  });

  it('documents the state words and the exit statuses', () => {
    expect(help.stdout).toMatch(/state NAME/);
    expect(help.stdout).toMatch(/exclude NAME/);
    expect(help.stdout).toMatch(/Exit status/);
  });
});

describe('-F FILE: the filter expression continued from a file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sockdiag-filter-'));
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const explain = (args: string[], input?: string) => spawnSync(process.execPath, [BIN, '--explain', '-t', ...args], { encoding: 'utf8', input, timeout: 30_000 });

  it('appends the lines after the command line words; # lines and blank lines are skipped', () => {
    const f = file('web.filter', '# web traffic\ndport = :443\n\n  or dport = :80\n');
    const r = explain(['-F', f, 'sport = :1 and']);
    expect(r.stderr).toBe('');
    // ss's equal precedence, left to right: ( sport and dport 443 ) or dport 80.
    expect(r.stdout.split('\n')[0]).toBe('filter: ( sport = :1 and dport = :443 ) or dport = :80');
  });

  it("reads standard input for '-'", () => {
    const r = explain(['-F', '-'], 'dport = :22\n');
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')[0]).toBe('filter: dport = :22');
  });

  it("names the file's line and column of a mistake", () => {
    usageError(['-t', '-F', file('bad.filter', '# c\ndport = :22\nor dst 10.0.0.256\n')], new RegExp(`bad filter in '.*bad\\.filter', line 3, column 8: '10\\.0\\.0\\.256' is not an IPv4 or IPv6 address`));
  });

  it('-D: a file that cannot be written, or no TCP table listed: one line, exit 2', () => {
    usageError(['-t', '-D', join(dir, 'no', 'such', 'dir')], /cannot write '.*dir': ENOENT/);
    usageError(['-t', '-D', '/dev/full'], /cannot write to '\/dev\/full': ENOSPC \(no space left on device\)/);
    usageError(['-x', '-D', join(dir, 'raw')], /-D writes TCP sockets, and the command line lists none/);
  });

  it('a file that cannot be read, two files, or one too large: one line, exit 2', () => {
    usageError(['-t', '-F', join(dir, 'missing')], /cannot read the filter file '.*missing': ENOENT/);
    usageError(['-t', '-F', dir], /cannot read the filter file '.*': EISDIR/);
    usageError(['-t', '-F', '/dev/null', '-F', '/dev/null'], /more than one filter file/);
    usageError(['-t', '-F', '/dev/zero'], /cannot read the filter file '\/dev\/zero': larger than 1 MiB/);
  });
});

describe('--explain', () => {
  it('shows the kernel program for INET tables, and that UNIX sockets are tested here', () => {
    expect(sockdiag(['-t', '--explain', 'dport = :22']).stdout).toBe(
      'filter: dport = :22\nkernel: dport = :22; user space: (nothing left to check)\nINET_DIAG_REQ_BYTECODE:\n   0: d-cond      yes accept no reject (unspec * port 22)\n',
    );
    // Only UNIX sockets: src/dst are name patterns, and no kernel program is made.
    expect(sockdiag(['-x', '--explain', 'src', '/tmp/*']).stdout).toBe('filter: src unix:/tmp/*\nUNIX sockets: all dumped, the filter tested here\n');
    expect(sockdiag(['-A', 'unix,tcp', '--explain', 'src unix:/x or dport = :22']).stdout).toBe(
      'filter: src unix:/x or dport = :22\nUNIX sockets: all dumped, the filter tested here\n' +
        'INET sockets: kernel: dport = :22; user space: (nothing left to check)\nINET_DIAG_REQ_BYTECODE:\n   0: d-cond      yes accept no reject (unspec * port 22)\n',
    );
  });
});

describe('--version', () => {
  it("prints the package's version", () => {
    const { version } = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { version: string };
    const r = sockdiag(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`sockdiag ${version}\n`);
    expect(sockdiag(['-V']).stdout).toBe(r.stdout);
  });
});

describe('the bin, run as npm links it (a symlink executed directly)', () => {
  const link = join(mkdtempSync(join(tmpdir(), 'sockdiag-bin-')), 'sockdiag');
  beforeAll(() => symlinkSync(BIN, link));
  afterAll(() => rmSync(dirname(link), { recursive: true, force: true }));
  const run = (args: string[], env: NodeJS.ProcessEnv) => spawnSync(link, args, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000 });

  it('passes its arguments on, spaces and all', () => {
    const r = run(['-N', 'no such namespace', '-t'], {});
    expect(r.stderr).toBe("sockdiag: network namespace 'no such namespace' does not exist\n");
    expect(r.status).toBe(2);
  });

  it('starts node without NODE_EXTRA_CA_CERTS, which it has no use for and which costs a parse of the file', () => {
    // node warns on stderr when the file cannot be read: here only if the launcher kept the variable.
    const r = run(['--version'], { NODE_EXTRA_CA_CERTS: '/nonexistent/sockdiag-test-ca.pem' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^sockdiag /);
    expect(r.status).toBe(0);
  });
});

describe('tables the kernel cannot list', () => {
  it('are left out without a word when none were asked for (sockdiag -a, like ss -a)', () => {
    const r = sockdiag(['-N', ns.name, '-a']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Netid\s+State\s+Recv-Q\s+Send-Q/);
  });
});
