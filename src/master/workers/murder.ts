import type { Config } from '../../config/registry.js';
import type { Logger } from '../../log/logger.js';
import { findNotReady, findOverdue, findTimedOut } from '../decisions/plan.js';
import { signalChild } from '../host/own-children.js';
import { heldTcpConnections } from '../host/proc-net.js';
import type { WorkerRecord } from './worker-record.js';

/**
 * Kill stuck workers: a blocked loop (--timeout: SIGABRT, then SIGKILL on the next pass), one
 * not ready in time (--ready-timeout), one not stopped in time (`stopLimitMs`). plan.ts decides
 * who is stuck; this marks the records (their exit is classified by it) and sends the signals.
 */
export function murderStuck(
  io: {
    readonly workers: readonly WorkerRecord[];
    readonly config: Config;
    readonly logger: Logger;
    readonly counts: { killed: number };
    /**
     * The data path hears of a timed-out worker first (the router stops sending it requests and
     * will not retry those it sent); the abort waits for that, when there is such a promise.
     */
    readonly timedOut: (id: number) => Promise<void> | null;
  },
  now: number,
  stopLimitMs: number,
): void {
  const { config, logger, counts } = io;
  const byId = new Map(io.workers.map((w) => [w.id, w]));
  // Gunicorn's order: ABRT first (a worker whose loop still runs gets its workerAbort hook),
  // SIGKILL on the next pass.
  for (const w of io.workers) {
    if (w.abortedAt !== null && now > w.abortedAt) {
      w.abortedAt = null;
      signalChild(w.pid, 'SIGKILL');
    }
  }
  const live = io.workers.filter((w) => !w.murdered && w.state !== 'closing');
  for (const id of findTimedOut(live, now, config.timeout * 1000)) {
    const w = byId.get(id)!;
    // What the kill will cut, for the log: exact from /proc, else the last heartbeat's count.
    const connections = heldTcpConnections(w.pid) ?? w.connections;
    logger.error(
      { worker: w.id, workerPid: w.pid, timeout: config.timeout, connections },
      `WORKER TIMEOUT (pid:${w.pid}): event loop blocked, killing it with ${connections} open connection(s)`,
    );
    w.murdered = true;
    counts.killed++;
    const abort = () => {
      w.abortedAt = Date.now();
      signalChild(w.pid, 'SIGABRT');
    };
    const told = io.timedOut(w.id);
    if (told) void told.then(abort);
    else abort();
  }
  for (const id of findNotReady(live, now, config.readyTimeout * 1000)) {
    const w = byId.get(id)!;
    if (w.murdered) continue;
    logger.error(
      { worker: w.id, workerPid: w.pid },
      `worker not ready within --ready-timeout ${config.readyTimeout} s, killing it`,
    );
    w.murdered = true;
    w.notReadyAfter = config.readyTimeout;
    signalChild(w.pid, 'SIGKILL');
  }
  for (const id of findOverdue(io.workers, now, stopLimitMs)) {
    const w = byId.get(id)!;
    if (w.murdered) continue;
    logger.warn({ worker: w.id, workerPid: w.pid }, 'worker did not stop in time, killing it');
    w.murdered = true;
    counts.killed++;
    signalChild(w.pid, 'SIGKILL');
  }
}
