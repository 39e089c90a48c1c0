/**
 * Network interfaces by name and index, looked up inside a network namespace (the
 * names in /sys/class/net are those of the namespace sysfs was mounted in, not the
 * thread's).
 */
import * as libc from './libc.js';
import { withNetns, type NetnsSpec } from './netns.js';

/** The index of interface `name` in `netns` (the caller's namespace by default), or undefined. */
export function interfaceIndex(name: string, netns?: NetnsSpec): number | undefined {
  return netns ? withNetns(netns, () => libc.ifNameToIndex(name)) : libc.ifNameToIndex(name);
}

/** The name of interface `index` in `netns` (the caller's namespace by default), or undefined. */
export function interfaceName(index: number, netns?: NetnsSpec): string | undefined {
  return netns ? withNetns(netns, () => libc.ifIndexToName(index)) : libc.ifIndexToName(index);
}
