import type { StopMode } from './mode.js';
import type { RouterStats } from './router-process.js';

/**
 * What only a mode with processes of its own between clients and workers does (router mode):
 * the arbiter and the worker table ask for it (null in direct mode) instead of every mode
 * carrying no-op stubs for it.
 */
export interface ProxyLayer {
  /** The set of ready workers changed (one became ready, or one was reaped). */
  readyChanged(): void;
  /**
   * A worker's loop is blocked (--timeout) and it is marked murdered: a promise to wait for before
   * it is signalled (the router has dropped it and will retry nothing it had in flight there).
   */
  timedOut(id: number): Promise<void>;
  /**
   * Before a worker is stopped: a promise to wait for (the router has stopped sending it
   * requests), or null to signal it at once. `wasReady`: it was taking requests until now.
   */
  withdraw(wasReady: boolean, mode: StopMode): Promise<void> | null;
  /** The number of workers wanted changed (TTIN/TTOU, HUP, WINCH's 0). */
  targetChanged(workers: number): void;
  /** On each pass of the loop while running: start (or restart) the layer's processes. */
  supervise(now: number): void;
  /** On each pass: kill the layer's processes that are stuck (loop blocked, stop overdue). */
  murder(now: number, stopLimitMs: number): void;
  /** USR1: the layer's processes reopen their logs. */
  reopenLogs(): void;
  /**
   * Node could not read the IPC channel with this fd (master/children/channel-guard.ts): if it is one of
   * the layer's processes, stop it (it is started again) and say true.
   */
  channelBroken(fd: number | null, reason: string): boolean;
  /** Whether the layer takes requests (for /readyz). */
  ready(): boolean;
  /** For --stats: the router's process and counters. */
  stats(): RouterStats | null;
  /** The master stops: true when the workers stop now, false when the layer stops them later. */
  stop(mode: StopMode): boolean;
  /** A process of the layer still runs: the master waits for it before exiting. */
  readonly running: boolean;
  /** The master exits: remove what the layer created. */
  close(): void;
}
