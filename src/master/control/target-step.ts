import { MAX_WORKERS } from '../../ipc/control.js';

/** What a TTIN or TTOU does to the worker count: the new count, or none, and what the log says. */
export interface TargetStep {
  /** The new target, or null when the signal changes nothing. */
  readonly next: number | null;
  readonly level: 'info' | 'warn';
  readonly message: string;
}

/**
 * TTIN: one worker more, up to the most a master keeps; TTOU: one fewer, never below one (WINCH
 * is the way to zero). A pure decision, so the bounds are tested without signals.
 */
export function targetStep(signal: 'SIGTTIN' | 'SIGTTOU', target: number): TargetStep {
  if (signal === 'SIGTTIN')
    return target >= MAX_WORKERS
      ? {
          next: null,
          level: 'warn',
          message: `TTIN: already at ${MAX_WORKERS} workers, the most a master keeps`,
        }
      : { next: target + 1, level: 'info', message: 'TTIN: one more worker' };
  return target <= 1
    ? { next: null, level: 'info', message: 'TTOU: already at one worker' }
    : { next: target - 1, level: 'info', message: 'TTOU: one worker fewer' };
}
