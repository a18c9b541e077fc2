import { readlinkSync } from 'node:fs';
import { readListeningRows } from './proc-net.js';
import type { BoundSocket } from './sockets.js';

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
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    try {
      for (const row of readListeningRows(file)) listening.set(row.inode, row.rxQueue);
    } catch {
      // No IPv6, or not Linux.
    }
  }
  return inodes.map((inode) => (inode === null ? null : (listening.get(inode) ?? null)));
}
