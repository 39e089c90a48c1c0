/**
 * cli/plan.ts: which dumps a command line runs, and in what order: ss's tables by
 * default, in the order ss lists them.
 */
import { describe, expect, it } from 'vitest';
import { parseCli } from '../../cli/args.js';
import { planDumps } from '../../cli/plan.js';

const tables = (argv: string[]) => planDumps(parseCli(argv)).map((d) => d.table);

describe('planDumps', () => {
  it('with no table flag, the tables ss 6.1 lists by default, in its order', () => {
    expect(tables([])).toEqual(['netlink', 'packet', 'unix', 'raw', 'udp', 'tcp', 'sctp', 'mptcp']);
    expect(tables(['-a'])).toEqual(tables([]));
  });

  it('every table asked for, in the order ss lists them (smc, which ss does not list, last)', () => {
    expect(tables(['-A', 'all'])).toEqual(['netlink', 'packet', 'unix', 'raw', 'udp', 'tcp', 'sctp', 'vsock', 'tipc', 'xdp', 'mptcp', 'smc']);
    expect(tables(['-t', '-x', '-u'])).toEqual(['unix', 'udp', 'tcp']);
  });

  it('a UNIX dump asks for what the text prints (-e: the file and pending connections; -m: memory), and for all of it for JSON', () => {
    const show = (argv: string[]) => planDumps(parseCli(['-x', ...argv]))[0]!.show;
    expect(show([])).toEqual(['name', 'peer', 'rqlen']);
    expect(show(['-e'])).toEqual(['name', 'peer', 'rqlen', 'vfs', 'icons']);
    expect(show(['-m'])).toEqual(['name', 'peer', 'rqlen', 'meminfo']);
    expect(show(['--json'])).toBeUndefined();
    expect(show(['--ndjson', '-e'])).toBeUndefined();
    expect(planDumps(parseCli(['-t']))[0]!.show).toBeUndefined();
  });

  it('-4 keeps the INET tables of the defaults, and -f unix only UNIX', () => {
    expect(tables(['-4'])).toEqual(['raw', 'udp', 'tcp', 'sctp', 'mptcp']);
    expect(tables(['-f', 'unix'])).toEqual(['unix']);
  });
});
