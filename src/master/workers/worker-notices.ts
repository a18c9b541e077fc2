import type { Notice } from '../../ipc/protocol.js';
import type { Logger } from '../../log/logger.js';
import { listeningInodes, socketInodes } from '../host/proc-net.js';

/**
 * What workers report that the operator should read once per master, not once per worker: the
 * app's own listen() on a port something holds (and who holds it), socket.io long-polling that
 * breaks across workers without sticky sessions.
 */

/** Who listens on a TCP port, as the master sees it. */
export type PortHolder =
  | { readonly kind: 'worker'; readonly id: number }
  /** A listening socket on the port that none of this master's workers holds. */
  | { readonly kind: 'foreign' }
  /** No /proc, no listening socket on the port (a bound one, or it was just released). */
  | { readonly kind: 'unknown' };

/**
 * The listening sockets on the port (/proc/net/tcp{,6}) against the sockets each worker holds
 * (/proc/PID/fd): the master can read its workers' fds (root, or the workers' own user), where a
 * worker after setuid could not read its siblings'. Read only when a worker reports a busy port.
 */
export function portHolder(
  port: number,
  workers: readonly { readonly id: number; readonly pid: number }[],
): PortHolder {
  const inodes = listeningInodes(port);
  if (inodes === null || inodes.size === 0) return { kind: 'unknown' };
  let unreadable = false;
  for (const w of workers) {
    try {
      const held = socketInodes(w.pid);
      for (const inode of inodes) if (held.has(inode)) return { kind: 'worker', id: w.id };
    } catch (err) {
      // A worker that exited while we looked holds nothing; any other failure leaves it unknown.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') unreadable = true;
    }
  }
  return unreadable ? { kind: 'unknown' } : { kind: 'foreign' };
}

/** A port held by another process is logged again at most this often, with the failures since. */
export const BUSY_REPEAT_MS = 60_000;

export interface BusyState {
  readonly holder: PortHolder['kind'];
  readonly loggedAt: number;
  /** Failed attempts reported since the last line. */
  readonly attempts: number;
}

/**
 * The line (if any) for a worker's report that `address` is busy, and the state after it. The
 * first report says who holds the port; a worker holding it is normal with -w > 1 and said once;
 * another process holding it is said again at most every BUSY_REPEAT_MS with the failed attempts
 * since (the workers go on trying: the port may be freed), so it is neither silent nor a line a
 * second.
 */
export function busyLine(
  prev: BusyState | undefined,
  address: string,
  attempts: number,
  holder: PortHolder,
  now: number,
): { readonly line: string | null; readonly next: BusyState } {
  const total = (prev?.attempts ?? 0) + attempts;
  if (prev === undefined || prev.holder !== holder.kind) {
    const line =
      holder.kind === 'worker'
        ? `${address} is in use (worker ${holder.id} holds it): the other workers serve without it and try again every second`
        : holder.kind === 'foreign'
          ? `${address} is held by another process (not a tsgun worker): the app's listen() on it fails, the workers serve without it and try again every second (logged again at most once a minute)`
          : `${address} is in use: the app's listen() on it fails, the workers serve without it and try again every second (logged again at most once a minute)`;
    return { line, next: { holder: holder.kind, loggedAt: now, attempts: 0 } };
  }
  if (holder.kind === 'worker' || now - prev.loggedAt < BUSY_REPEAT_MS)
    return { line: null, next: { ...prev, attempts: total } };
  const minutes = Math.max(1, Math.round((now - prev.loggedAt) / 60_000));
  const who = holder.kind === 'foreign' ? 'held by another process (not a tsgun worker)' : 'in use';
  return {
    line: `${address} is still ${who}: ${total} failed attempts of the app's listen() in the last ${minutes === 1 ? 'minute' : `${minutes} minutes`}`,
    next: { holder: holder.kind, loggedAt: now, attempts: 0 },
  };
}

/** Addresses tracked at most: a worker's reports cannot grow the master's memory without bound. */
const MAX_ADDRESSES = 64;

const NOTICE_TEXT: Record<Notice, string> = {
  'socket-io-polling':
    "socket.io long-polling with several workers and no sticky sessions: every request of a session must reach the worker that holds it, and the others answer 400 'Session ID unknown'. Run with --router --sticky cookie (or give the clients transports: ['websocket'])",
};

export class WorkerNotices {
  private readonly busy = new Map<string, BusyState>();
  private readonly noticed = new Set<Notice>();

  constructor(private readonly logger: () => Logger) {}

  /** A worker's listen() on `address` failed `attempts` times since its last report. */
  passBusy(
    address: string,
    port: number,
    attempts: number,
    workers: readonly { readonly id: number; readonly pid: number }[],
  ): void {
    const key = `${address}#${port}`;
    const prev = this.busy.get(key);
    if (prev === undefined && this.busy.size >= MAX_ADDRESSES) return;
    const holder = portHolder(port, workers);
    const { line, next } = busyLine(prev, address, attempts, holder, Date.now());
    this.busy.set(key, next);
    if (line) this.logger().warn({ address, holder: holder.kind }, line);
  }

  notice(notice: Notice): void {
    if (this.noticed.has(notice)) return;
    this.noticed.add(notice);
    this.logger().warn({ notice }, NOTICE_TEXT[notice]);
  }
}
