import { ExitCode, type ExitCodeValue } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { Acceptor } from './acceptor.js';
import { onChannelClosed } from './attach.js';
import { drainConnections } from './drain.js';

export type QuickSignal = 'SIGINT' | 'SIGQUIT';

export interface StopSignalOptions {
  readonly role: 'worker' | 'router';
  readonly acceptor: Acceptor;
  readonly keepAliveSeconds: number;
  readonly logger: Logger;
  /** The graceful stop began: every response from now on closes its connection. */
  readonly onDrain: () => void;
  readonly finish: (code: ExitCodeValue) => void;
  /** TERM, once drained (default: finish): a worker whose app stops itself lets it. */
  readonly drained?: () => void;
  /**
   * INT/QUIT, once accepting has stopped (default: finish): the worker runs its workerInt hook,
   * and lets an app with its own stop handler finish. `received` is the signal, `termed` whether
   * a TERM came first. Called at once: the decision is made before anything else can happen.
   */
  readonly quickStop?: (received: QuickSignal, termed: boolean) => void;
  /** ABRT from the master's heartbeat timeout, before finishing (the workerAbort hook), awaited. */
  readonly onAbort?: () => unknown;
  readonly reopenLogs: () => void;
}

/**
 * The signals of a process the master forks (a worker, the router), Gunicorn's way: TERM drains
 * (stop accepting, close keep-alive connections without resetting a client), INT/QUIT stop now
 * (an app with its own stop handler is given the quick-stop grace, see quickStop),
 * ABRT is the master's heartbeat timeout, USR1 reopens logs (and keeps Node's inspector off);
 * HUP, TTIN, TTOU and WINCH are the master's and ignored here (Ctrl-Z groups and all).
 */
export function handleStopSignals(o: StopSignalOptions): void {
  // Once each: a terminal's Ctrl-C reaches the process directly and then the master's QUIT does.
  let stopping: 'graceful' | 'quick' | null = null;
  const graceful = () => {
    if (stopping) return;
    stopping = 'graceful';
    o.logger.info({ connections: o.acceptor.sockets.size }, `${o.role} stopping gracefully`);
    o.acceptor.stop();
    o.onDrain();
    // Idle keep-alive sockets are closed when the keep-alive timeout would close them anyway.
    drainConnections(
      o.acceptor.sockets,
      () => (o.drained ? o.drained() : o.finish(ExitCode.OK)),
      Math.max(100, o.keepAliveSeconds * 1000),
    );
  };
  process.on('SIGTERM', graceful);
  // The master closing the channel while alive stops this child as TERM would, without a signal
  // (an app's own TERM handler runs once, for the master's TERM).
  onChannelClosed(graceful);
  const quick = (received: QuickSignal) => {
    if (stopping === 'quick') return;
    const termed = stopping === 'graceful';
    stopping = 'quick';
    o.acceptor.stop();
    o.onDrain();
    if (o.quickStop) o.quickStop(received, termed);
    else o.finish(ExitCode.OK);
  };
  process.on('SIGINT', () => quick('SIGINT'));
  process.on('SIGQUIT', () => quick('SIGQUIT'));
  process.on('SIGABRT', () => {
    void Promise.resolve(o.onAbort?.()).then(() => o.finish(ExitCode.INTERNAL));
  });
  for (const sig of ['SIGHUP', 'SIGTTIN', 'SIGTTOU', 'SIGWINCH'] as const)
    process.on(sig, () => {});
  process.on('SIGUSR1', o.reopenLogs);
}
