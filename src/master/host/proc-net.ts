import { closeSync, openSync, readdirSync, readFileSync, readlinkSync, readSync } from 'node:fs';

/** One row of /proc/net/tcp or /proc/net/tcp6. */
export interface TcpRow {
  /** Kernel state, e.g. '01' ESTABLISHED, '08' CLOSE_WAIT, '0A' LISTEN. */
  readonly state: string;
  /** For a LISTEN socket, the accept queue length (rx_queue). */
  readonly rxQueue: number;
  readonly inode: string;
  /** The local port (the hex after the local address's colon). */
  readonly localPort: number;
}

export const LISTEN = '0A';
const CONNECTED = new Set(['01', '08']);

/** One data line of /proc/net/tcp{,6}, or null for the header or a short line. */
export function parseProcNetTcpLine(line: string): TcpRow | null {
  const f = line.trim().split(/\s+/);
  if (f.length < 10 || f[0] === 'sl') return null;
  const rx = f[4]!.split(':')[1] ?? '0';
  const localPort = Number.parseInt(f[1]!.split(':')[1] ?? '', 16);
  return { state: f[3]!, rxQueue: Number.parseInt(rx, 16), inode: f[9]!, localPort };
}

/** Parse /proc/net/tcp{,6} text (pure, so it has a unit test). */
export function parseProcNetTcp(text: string): TcpRow[] {
  const rows: TcpRow[] = [];
  for (const line of text.split('\n')) {
    const row = parseProcNetTcpLine(line);
    if (row) rows.push(row);
  }
  return rows;
}

/**
 * The LISTEN rows only. The kernel prints the listening sockets first, then every other one (a
 * busy server without keep-alive has tens of thousands in TIME_WAIT: megabytes), so reading stops
 * at the first row that is not listening. Read once a second by the master: it must stay cheap.
 */
export function readListeningRows(file: string): TcpRow[] {
  const rows: TcpRow[] = [];
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    let carry = '';
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) return rows;
      const lines = (carry + buffer.toString('latin1', 0, n)).split('\n');
      carry = lines.pop() ?? '';
      for (const line of lines) {
        const row = parseProcNetTcpLine(line);
        if (!row) continue;
        if (row.state !== LISTEN) return rows;
        rows.push(row);
      }
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * How many TCP connections a process holds, read from the kernel (Linux). A murdered worker's
 * heartbeat count can be stale by a heartbeat interval; this is exact at the moment of the kill.
 * It reads every row, so it is only for rare events. Returns null where /proc cannot tell.
 */
export function heldTcpConnections(pid: number): number | null {
  try {
    const inodes = socketInodes(pid);
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

/** The inodes of the sockets a process holds (throws where /proc/PID/fd cannot be read). */
export function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // The fd closed while we looked.
    }
  }
  return inodes;
}

/** The inodes of the TCP sockets (IPv4 and IPv6) listening on `port`, or null without /proc. */
export function listeningInodes(port: number): Set<string> | null {
  const inodes = new Set<string>();
  let read = false;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    try {
      for (const row of readListeningRows(file)) if (row.localPort === port) inodes.add(row.inode);
      read = true;
    } catch {
      // No IPv6 in this kernel, or no /proc.
    }
  }
  return read ? inodes : null;
}
