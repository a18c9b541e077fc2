import { ExitCode, type ExitCodeValue } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { Acceptor } from './acceptor.js';
import { drainConnections } from './drain.js';

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
  /** INT/QUIT, before finishing (the workerInt hook): a promise it returns is awaited. */
  readonly onQuick?: () => unknown;
  /** ABRT from the master's heartbeat timeout, before finishing (the workerAbort hook), awaited. */
  readonly onAbort?: () => unknown;
  readonly reopenLogs: () => void;
}

/**
 * The signals of a process the master forks (a worker, the router), Gunicorn's way: TERM drains
 * (stop accepting, close keep-alive connections without resetting a client), INT/QUIT stop now,
 * ABRT is the master's heartbeat timeout, USR1 reopens logs (and keeps Node's inspector off);
 * HUP, TTIN, TTOU and WINCH are the master's and ignored here (Ctrl-Z groups and all).
 */
export function handleStopSignals(o: StopSignalOptions): void {
  let stopping = false;
  process.on('SIGTERM', () => {
    if (stopping) return;
    stopping = true;
    o.logger.info({ connections: o.acceptor.sockets.size }, `${o.role} stopping gracefully`);
    o.acceptor.stop();
    o.onDrain();
    // Idle keep-alive sockets are closed when the keep-alive timeout would close them anyway.
    drainConnections(
      o.acceptor.sockets,
      () => (o.drained ? o.drained() : o.finish(ExitCode.OK)),
      Math.max(100, o.keepAliveSeconds * 1000),
    );
  });
  const quick = () => {
    void Promise.resolve(o.onQuick?.()).then(() => o.finish(ExitCode.OK));
  };
  process.on('SIGINT', quick);
  process.on('SIGQUIT', quick);
  process.on('SIGABRT', () => {
    void Promise.resolve(o.onAbort?.()).then(() => o.finish(ExitCode.INTERNAL));
  });
  for (const sig of ['SIGHUP', 'SIGTTIN', 'SIGTTOU', 'SIGWINCH'] as const)
    process.on(sig, () => {});
  process.on('SIGUSR1', o.reopenLogs);
}
