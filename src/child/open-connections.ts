import type { Socket } from 'node:net';

/** One open connection: its socket, its place in the list, and what the slot keeper last saw. */
export interface OpenConnection {
  readonly socket: Socket;
  /** Position in the list; -1 once removed. */
  index: number;
  readonly acceptedAt: number;
  /** Written by the slot keeper (slots.ts) to tell progress from a stall. */
  bytesRead: number;
  readAt: number;
  flushed: number;
  writeAt: number;
}

/** What the rest of a worker reads of its open connections: how many, and each socket. */
export interface SocketList extends Iterable<Socket> {
  readonly size: number;
}

/**
 * The open connections of a worker or router: an array with swap-remove, each entry knowing its
 * index, so adding and removing cost O(1) without a hash table.
 *
 * Not a Set or Map keyed by socket: under a no-keep-alive load (wrk -c64, one worker) a Set of
 * the sockets doubled what each scavenge promoted (about 1 MB instead of 0.5 MB) and the scavenge
 * pause (2.7 ms instead of 1.4 ms every ~480 requests), a few percent of the worker's CPU per
 * request; an array does not (seen with `node --trace-gc-nvp`: `promoted` and `pause` per
 * scavenge, tsgun -w 1 beside bare Node in the same run).
 */
export class OpenConnections implements SocketList {
  private readonly list: OpenConnection[] = [];

  get size(): number {
    return this.list.length;
  }

  add(socket: Socket, now: number = Date.now()): OpenConnection {
    const conn: OpenConnection = {
      socket,
      index: this.list.length,
      acceptedAt: now,
      bytesRead: 0,
      readAt: now,
      flushed: 0,
      writeAt: now,
    };
    this.list.push(conn);
    return conn;
  }

  /** Remove `conn`; false if it was removed already. */
  remove(conn: OpenConnection): boolean {
    const i = conn.index;
    if (i < 0 || this.list[i] !== conn) return false;
    const last = this.list.pop() as OpenConnection;
    if (last !== conn) {
      this.list[i] = last;
      last.index = i;
    }
    conn.index = -1;
    return true;
  }

  /**
   * The entries, last first: a removal during the walk moves the last entry, already visited,
   * into the freed place, so no entry still in the list is skipped.
   */
  *entries(): Generator<OpenConnection> {
    for (let i = this.list.length - 1; i >= 0; i--) {
      const conn = this.list[i];
      if (conn) yield conn;
    }
  }

  *[Symbol.iterator](): Generator<Socket> {
    for (const conn of this.entries()) yield conn.socket;
  }
}
