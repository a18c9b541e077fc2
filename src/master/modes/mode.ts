import type { ChildProcess } from 'node:child_process';
import type { Config } from '../../config/registry.js';
import type { ErrorCodeValue, ExitCodeValue } from '../../errors.js';
import type { TlsMaterial } from '../../ipc/protocol.js';
import type { Logger } from '../../log/logger.js';
import type { OnDemandBind } from '../on-demand.js';
import type { WorkerState } from '../plan.js';
import type { RouterStats } from '../router-process.js';
import type { BoundSocket } from '../sockets.js';
import type { Credentials } from '../user.js';
import { DirectMode } from './direct.js';
import { RouterMode } from './router.js';

/** TERM stops gracefully (workers finish what they hold); INT/QUIT, or a halt, stop quickly. */
export type StopMode = 'graceful' | 'quick';

/** What a mode sees of a worker in the arbiter's table. */
export interface ModeWorker {
  readonly id: number;
  readonly state: WorkerState;
  readonly murdered: boolean;
}

/** Where one worker listens: fixed at its fork, released when it is reaped or the fork failed. */
export interface WorkerSlot {
  /** The config the worker runs with. */
  readonly config: Config;
  /** The sockets it inherits as fds, and is sent again when it asks (`want-sockets`). */
  readonly sockets: readonly BoundSocket[];
  /** No bind configured: its app's listen() asks the master to bind (on-demand.ts). */
  readonly bind?: OnDemandBind;
  /** Right after the fork, before anything else is sent to it. */
  welcome(child: ChildProcess): void;
  release(): void;
}

/** The narrow view of the arbiter a mode calls back into. */
export interface ModeHost {
  readonly logger: Logger;
  wake(): void;
  halt(exitCode: ExitCodeValue, message: string, code: ErrorCodeValue): void;
  /** The master's stop under way, and since when; null while it runs. */
  stopping(): { readonly mode: StopMode; readonly since: number } | null;
  /** Stop every worker now (used once a mode that drains first has drained). */
  stopWorkers(mode: StopMode): void;
  workers(): readonly ModeWorker[];
  /** --timeout in milliseconds, as configured now (0: off). */
  timeoutMs(): number;
  /** A process of the mode's own could not be forked: counted with the workers' fork failures. */
  forkFailed(): void;
}

export interface ModeOptions {
  readonly config: Config;
  /** The public listening sockets. */
  readonly sockets: readonly BoundSocket[];
  readonly credentials: Credentials | null;
  readonly tls: TlsMaterial | null;
  readonly host: ModeHost;
  /** No bind configured: the master binds what the app's listen() asks for (direct mode). */
  readonly onDemand?: OnDemandBind | null;
}

/**
 * How requests reach the workers, like the handle strategies of Node's cluster primary. Direct:
 * every worker accepts on the master's sockets. Router (--router): one router process accepts and
 * proxies to workers on private unix sockets. The arbiter runs the same loop for both.
 */
export interface DataPathMode {
  /** Where a new worker listens, and the config it gets. */
  slot(id: number, config: Config): WorkerSlot;
  /** The set of ready workers changed (one became ready, or one was reaped). */
  readyChanged(): void;
  /**
   * A worker's loop is blocked (--timeout) and it is marked murdered: a promise to wait for before
   * it is signalled (the router has dropped it and will retry nothing it had in flight there),
   * or null to signal it at once.
   */
  timedOut(id: number): Promise<void> | null;
  /**
   * Before a worker is stopped: a promise to wait for (the router has stopped sending it
   * requests), or null to signal it at once. `wasReady`: it was taking requests until now.
   */
  withdraw(wasReady: boolean, mode: StopMode): Promise<void> | null;
  /** The number of workers wanted changed (TTIN/TTOU, HUP, WINCH's 0). */
  targetChanged(workers: number): void;
  /** On each pass of the loop while running: start (or restart) the mode's own processes. */
  supervise(now: number): void;
  /** On each pass: kill the mode's own processes that are stuck (loop blocked, stop overdue). */
  murder(now: number, stopLimitMs: number): void;
  /** New TLS material (start, or a HUP that loaded new files). */
  setTls(tls: TlsMaterial | null): void;
  /** USR1: the mode's own processes reopen their logs. */
  reopenLogs(): void;
  /**
   * Node could not read the IPC channel with this fd (master/channel-guard.ts): if it is one of
   * the mode's own processes, stop it (it is started again) and say true.
   */
  channelBroken(fd: number | null, reason: string): boolean;
  /** Whether the mode takes requests (for /readyz). */
  ready(): boolean;
  /** For --stats: the router's process and counters; null in direct mode. */
  stats(): RouterStats | null;
  /** The master stops: true when the workers stop now, false when the mode stops them later. */
  stop(mode: StopMode): boolean;
  /** A process of the mode's own still runs: the master waits for it before exiting. */
  readonly running: boolean;
  /** The master exits: remove what the mode created. */
  close(): void;
}

/** The mode the config asks for. */
export function createMode(opts: ModeOptions): DataPathMode {
  return opts.config.router ? new RouterMode(opts) : new DirectMode(opts);
}
