/**
 * State names as `ss` spells them: the `state`/`exclude` vocabulary with its groups,
 * and the column labels.
 */
import type { TcpStateName } from '../generated/inet_diag.js';

/** Every state `ss` knows (TCP states 1..11). */
const ALL: readonly TcpStateName[] = ['established', 'syn-sent', 'syn-recv', 'fin-wait1', 'fin-wait2', 'time-wait', 'close', 'close-wait', 'last-ack', 'listen', 'closing'];
const without = (...drop: TcpStateName[]) => ALL.filter((s) => !drop.includes(s));
/** The `connected` group: every state but listening and closed. */
const CONNECTED = without('listen', 'close');
/** ss's SS_CONN, what it lists when no state is asked for: connected, without the minisockets. */
const DEFAULT = without('listen', 'close', 'time-wait', 'syn-recv');

/** Names accepted after `state` and `exclude`, with the states each stands for. */
export const STATE_WORDS: Readonly<Record<string, readonly TcpStateName[]>> = {
  established: ['established'],
  'syn-sent': ['syn-sent'],
  'syn-recv': ['syn-recv'],
  'fin-wait-1': ['fin-wait1'],
  'fin-wait-2': ['fin-wait2'],
  'time-wait': ['time-wait'],
  closed: ['close'],
  unconnected: ['close'],
  'close-wait': ['close-wait'],
  'last-ack': ['last-ack'],
  listening: ['listen'],
  listen: ['listen'],
  closing: ['closing'],
  all: ALL,
  // The words mean more than the default set: every state but listen and close (ss's
  // sstate_namel), so `state connected` includes time-wait and syn-recv.
  connected: without('listen', 'close'),
  synchronized: without('listen', 'close', 'syn-sent'),
  bucket: ['syn-recv', 'time-wait'],
  big: without('syn-recv', 'time-wait'),
};

export const ALL_STATES = ALL;
export const DEFAULT_STATES = DEFAULT;

/** The State column label of a state, as ss prints it. */
export const STATE_LABEL: Readonly<Record<string, string>> = {
  established: 'ESTAB',
  'syn-sent': 'SYN-SENT',
  'syn-recv': 'SYN-RECV',
  'new-syn-recv': 'SYN-RECV',
  'fin-wait1': 'FIN-WAIT-1',
  'fin-wait2': 'FIN-WAIT-2',
  'time-wait': 'TIME-WAIT',
  close: 'UNCONN',
  'close-wait': 'CLOSE-WAIT',
  'last-ack': 'LAST-ACK',
  listen: 'LISTEN',
  closing: 'CLOSING',
  'bound-inactive': 'BOUND-INACTIVE',
};
