import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** One row of /proc/net/tcp or /proc/net/tcp6. */
export interface TcpRow {
  /** Kernel state, e.g. '01' ESTABLISHED, '08' CLOSE_WAIT, '0A' LISTEN. */
  readonly state: string;
  /** For a LISTEN socket, the accept queue length (rx_queue). */
  readonly rxQueue: number;
  readonly inode: string;
}

/** Parse /proc/net/tcp{,6} text (pure, so it has a unit test). */
export function parseProcNetTcp(text: string): TcpRow[] {
  const rows: TcpRow[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const rx = f[4]!.split(':')[1] ?? '0';
    rows.push({ state: f[3]!, rxQueue: Number.parseInt(rx, 16), inode: f[9]! });
  }
  return rows;
}

const CONNECTED = new Set(['01', '08']);

/**
 * How many TCP connections a process holds, read from the kernel (Linux). A murdered worker's
 * heartbeat count can be stale by a heartbeat interval; this is exact at the moment of the kill.
 * Returns null where /proc cannot tell (another OS, a process that is gone).
 */
export function heldTcpConnections(pid: number): number | null {
  try {
    const inodes = new Set<string>();
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]!);
      } catch {
        // The fd closed while we looked.
      }
    }
    let count = 0;
    for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
      let text = '';
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        continue;
      }
      for (const row of parseProcNetTcp(text))
        if (CONNECTED.has(row.state) && inodes.has(row.inode)) count++;
    }
    return count;
  } catch {
    return null;
  }
}
