import { readlinkSync } from 'node:fs';
import { readListeningRows } from '../host/proc-net.js';
import type { BoundSocket } from './sockets.js';

const ipv6 = new WeakMap<BoundSocket, boolean>();

/** From the bound handle (an inherited fd may be either family), asked once per socket. */
function isIPv6(s: BoundSocket): boolean {
  let v6 = ipv6.get(s);
  if (v6 === undefined) {
    const out: Record<string, unknown> = {};
    // 'IPv6' on Node 20+; 6 on the releases that briefly reported a number.
    v6 = s.handle.getsockname?.(out) === 0 && (out['family'] === 'IPv6' || out['family'] === 6);
    ipv6.set(s, v6);
  }
  return v6;
}

/**
 * The kernel's accept queue of each listening socket, read from /proc/net/tcp{,6} (rx_queue of the
 * LISTEN row with the socket's inode): no native addon. null where the kernel does not tell: unix
 * sockets, other systems, or a socket no worker has put in LISTEN state yet.
 */
export function readListenQueues(sockets: readonly BoundSocket[]): (number | null)[] {
  const inodes = sockets.map((s) => {
    try {
      return /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${s.handle.fd}`))?.[1] ?? null;
    } catch {
      return null;
    }
  });
  if (inodes.every((i) => i === null)) return inodes.map(() => null);
  const listening = new Map<string, number>();
  // Only the tables of the families in use: reading /proc/net/tcp6 when no IPv6 socket listens
  // makes the kernel walk every IPv4 connection to fill the read, once a second (DEVELOPERS.md,
  // "Sockets", has the cost).
  const files = new Set<string>();
  sockets.forEach((s, i) => {
    if (inodes[i] !== null) files.add(isIPv6(s) ? '/proc/net/tcp6' : '/proc/net/tcp');
  });
  for (const file of files) {
    try {
      for (const row of readListeningRows(file)) listening.set(row.inode, row.rxQueue);
    } catch {
      // No IPv6, or not Linux.
    }
  }
  return inodes.map((inode) => (inode === null ? null : (listening.get(inode) ?? null)));
}
