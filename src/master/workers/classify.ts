import {
  bootExitCode,
  ErrorCode,
  type ErrorCodeValue,
  ExitCode,
  type ExitCodeValue,
} from '../../errors.js';
import { clip } from '../../ipc/limits.js';
import type { WorkerState } from '../decisions/plan.js';

export interface ExitFacts {
  readonly state: WorkerState;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** What the worker said before dying, if it reported a boot error. */
  readonly bootError: { readonly code: ErrorCodeValue; readonly message: string } | null;
  /** The master itself is stopping: every exit is expected. */
  readonly masterStopping: boolean;
  /** The master killed it for missing heartbeats. */
  readonly murdered: boolean;
  /** The master killed it for not being ready within --ready-timeout (seconds), else null. */
  readonly notReadyAfter: number | null;
}

export type ExitClass =
  | { readonly kind: 'expected' }
  | {
      readonly kind: 'boot-failure';
      readonly exitCode: ExitCodeValue;
      readonly code: ErrorCodeValue;
      readonly message: string;
    }
  | { readonly kind: 'crash'; readonly message: string };

/** "exited with code 1", "was killed by SIGKILL (perhaps out of memory?)". */
export function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal)
    return `was killed by ${signal}${signal === 'SIGKILL' ? ' (perhaps out of memory?)' : ''}`;
  return `exited with code ${code}`;
}

/**
 * Why a worker is gone decides what the master does next: nothing (it was told to stop), halt
 * (it never booted: a crash loop would only hide the error), or respawn (it crashed after booting).
 */
export function classifyExit(facts: ExitFacts): ExitClass {
  if (facts.masterStopping || facts.state === 'closing') return { kind: 'expected' };
  if (facts.notReadyAfter !== null) {
    return {
      kind: 'boot-failure',
      exitCode: ExitCode.WORKER_BOOT,
      code: ErrorCode.WORKER_NOT_READY,
      message: `worker was not ready within --ready-timeout ${facts.notReadyAfter} s`,
    };
  }
  if (facts.state === 'booting' && !facts.murdered) {
    if (facts.bootError) {
      const exitCode = bootExitCode(facts.code);
      return {
        kind: 'boot-failure',
        exitCode,
        code: facts.bootError.code,
        message: facts.bootError.message,
      };
    }
    return {
      kind: 'boot-failure',
      exitCode: bootExitCode(facts.code),
      code: ErrorCode.WORKER_BOOT,
      message: `worker ${describeExit(facts.code, facts.signal)} while booting`,
    };
  }
  return {
    kind: 'crash',
    message: facts.murdered
      ? 'worker timed out and was killed'
      : `worker ${describeExit(facts.code, facts.signal)}`,
  };
}

/**
 * A fork that failed started nothing, so there is nothing to reap or signal: before any worker
 * was ever ready (and with none booting) it is a failed start, a halt; after that it is retried
 * under the crash backoff, because halting would close sockets that still hold queued clients.
 */
export function classifyForkFailure(facts: {
  readonly everReady: boolean;
  readonly liveWorkers: number;
}): 'halt' | 'retry' {
  return !facts.everReady && facts.liveWorkers === 0 ? 'halt' : 'retry';
}

/**
 * A worker that could not boot (it exited or was killed before it was ready). Before any worker
 * was ever ready it is a failed start: halt with the cause (a crash loop would only hide it).
 * During a reload while older workers serve, the reload is aborted and they keep serving. Else
 * the service has served: the worker is retried under the crash backoff, so a transient failure,
 * or an app file fixed on disk, brings the count back without an operator.
 */
export function classifyBootFailure(facts: {
  readonly everReady: boolean;
  readonly reloading: boolean;
  /** Ready workers left. */
  readonly serving: number;
}): 'halt' | 'abort-reload' | 'retry' {
  if (!facts.everReady) return 'halt';
  return facts.reloading && facts.serving > 0 ? 'abort-reload' : 'retry';
}

/**
 * A worker that reported its boot error has logged it in full (file, line, code frame or the
 * app's stack) on the same stderr, inside a JSON record: the halt line says the cause again in
 * plain words and points at that record for the rest. When the record did not reach stderr (an
 * error log file, --log-level critical) the cause is all it says.
 */
export function haltReason(facts: {
  readonly message: string;
  readonly reported: boolean;
  readonly worker: number;
  readonly workerPid: number;
  readonly errorLogfile: string;
  readonly logLevel: string;
}): string {
  const cause = printable(facts.message);
  if (!facts.reported || facts.errorLogfile !== '-' || facts.logLevel === 'critical') return cause;
  return `worker ${facts.worker} (pid ${facts.workerPid}) could not boot: ${cause} (details in its record above)`;
}

/** A worker's words on the master's terminal: one line, no control characters, bounded. */
export function printable(text: string, max = 400): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: they are what is replaced
  return clip(text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim(), max);
}
