import type { ChildProcess } from 'node:child_process';
import type { Config } from '../../config/registry.js';
import type { ErrorCodeValue, ExitCodeValue } from '../../errors.js';
import type { TlsMaterial } from '../../ipc/protocol.js';
import type { Logger } from '../../log/logger.js';
import type { WorkerState } from '../decisions/plan.js';
import type { Credentials } from '../host/user.js';
import type { OnDemandBind } from '../sockets/on-demand.js';
import type { BoundSocket } from '../sockets/sockets.js';

/** TERM stops gracefully (workers finish what they hold); INT/QUIT, or a halt, stop quickly. */
export type StopMode = 'graceful' | 'quick';

/** What a mode sees of a worker in the arbiter's table. */
export interface ModeWorker {
  readonly id: number;
  readonly state: WorkerState;
  readonly murdered: boolean;
  readonly generation: number;
  readonly retiring: boolean;
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

/** The master's stop under way, and since when. */
export interface Stopping {
  readonly mode: StopMode;
  readonly since: number;
}

/** What every part the arbiter drives (worker table, mode) may ask of it. */
export interface ArbiterHost {
  readonly logger: Logger;
  /** Run the loop again soon. */
  wake(): void;
  halt(exitCode: ExitCodeValue, message: string, code: ErrorCodeValue): void;
  /** The master's stop under way; null while it runs. */
  stopping(): Stopping | null;
}

/** The narrow view of the arbiter a mode calls back into. */
export interface ModeHost extends ArbiterHost {
  /** Stop every worker now (used once a mode that drains first has drained). */
  stopWorkers(mode: StopMode): void;
  workers(): readonly ModeWorker[];
  /** The generation new workers run (plan.ts isStale: older ones are being replaced). */
  generation(): number;
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
 * proxies to workers on private unix sockets (it is also a `ProxyLayer`, proxy-layer.ts). The
 * arbiter runs the same loop for both; this is what both do.
 */
export interface DataPathMode {
  /** Where a new worker listens, and the config it gets. */
  slot(id: number, config: Config): WorkerSlot;
  /** New TLS material (start, or a HUP that loaded new files). */
  setTls(tls: TlsMaterial | null): void;
}
