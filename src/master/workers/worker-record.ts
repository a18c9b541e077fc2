import type { ChildProcess } from 'node:child_process';
import type { Config } from '../../config/registry.js';
import type { ErrorCodeValue } from '../../errors.js';
import type { ServerFacade, WorkerFacade } from '../../hooks.js';
import type { WorkerCounters } from '../../ipc/protocol.js';
import type { Logger } from '../../log/logger.js';
import type { WorkerState, WorkerView } from '../decisions/plan.js';
import type { WorkerSlot } from '../modes/mode.js';

/** One row of the arbiter's worker table. */
export interface WorkerRecord extends WorkerView {
  readonly child: ChildProcess;
  /** A real pid: a fork that failed never becomes a record. */
  readonly pid: number;
  /** TSGUN_WORKER_INDEX / NODE_APP_INSTANCE (plan.ts pickWorkerIndex). */
  readonly index: number;
  generation: number;
  state: WorkerState;
  retiring: boolean;
  lastHeartbeat: number;
  /** Since when it is stopping; a quick stop counts its grace from the QUIT. */
  closingSince: number | null;
  /** The stop signal it was sent (plan.ts stopSignal: never twice). */
  stopSignal: 'SIGTERM' | 'SIGQUIT' | null;
  bootError: { code: ErrorCodeValue; message: string } | null;
  murdered: boolean;
  /** When a timed-out worker was sent SIGABRT (its workerAbort hook); SIGKILL follows next pass. */
  abortedAt: number | null;
  /** Open connections at the last heartbeat: what a timeout kill will cut. */
  connections: number;
  /** Requests served, at the last heartbeat (`tsgun status`, with or without --stats). */
  requests: number;
  /** The last stats report (--stats/--statsd-host), and the rate derived from the one before. */
  counters: WorkerCounters | null;
  countersAt: number;
  requestsPerSec: number;
  /** Set when killed for not being ready within --ready-timeout (its value, in seconds). */
  notReadyAfter: number | null;
  /** Where it listens (the data-path mode's choice), released when it is reaped. */
  readonly slot: WorkerSlot;
}

/** The record of a worker just forked: booting. */
export function newWorkerRecord(
  fork: {
    id: number;
    index: number;
    child: ChildProcess;
    pid: number;
    generation: number;
    slot: WorkerSlot;
  },
  now: number,
): WorkerRecord {
  return {
    ...fork,
    state: 'booting',
    retiring: false,
    spawnedAt: now,
    lastHeartbeat: now,
    closingSince: null,
    stopSignal: null,
    bootError: null,
    murdered: false,
    abortedAt: null,
    notReadyAfter: null,
    connections: 0,
    requests: 0,
    counters: null,
    countersAt: now,
    requestsPerSec: 0,
  };
}

/** What hooks get as a worker. */
export function workerFacade(w: WorkerRecord): WorkerFacade & { state: string } {
  return { id: w.id, index: w.index, pid: w.pid, generation: w.generation, state: w.state };
}

/** What master hooks get as `server`, like Gunicorn's arbiter: config and log stay current. */
export function masterFacade(live: {
  config(): Config;
  logger(): Logger;
  workers(): readonly WorkerRecord[];
}): ServerFacade {
  return Object.defineProperties(
    { pid: process.pid, workers: () => live.workers().map(workerFacade) },
    {
      config: { get: live.config, enumerable: true },
      log: { get: live.logger, enumerable: true },
    },
  ) as ServerFacade;
}
