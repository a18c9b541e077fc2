import { onceASecond } from '../child/log-rate.js';

/**
 * The router's request queue: requests waiting for an upstream slot, counted and bounded so that
 * load beyond capacity is answered 503 at once instead of waiting until the client gives up.
 *
 * The decisions are pure functions (shedOnArrival, shedOnWait, retryAfterSeconds; the shed
 * lines' once-a-second rule is child/log-rate.ts); RequestQueue only keeps the counts and
 * timers; router-queue.ts hooks it into the proxy. The /readyz decision on the reported counts
 * is ipc/protocol.ts's overReadyzThreshold (the master reads it, and does not import router code).
 */

/** Why a request was answered 503 by the queue. */
export type ShedReason = 'limit' | 'timeout';

export const SHED_REASONS: readonly ShedReason[] = ['limit', 'timeout'];

export interface QueueLimits {
  /** Requests allowed to wait at once; 0 = no limit. */
  limit: number;
  /** Milliseconds a request may wait; 0 = no limit. */
  timeoutMs: number;
}

/**
 * Whether a request about to join a queue of `waiting` requests is shed at once. A limit of 0
 * means unbounded (the default, so that existing deployments keep their behaviour).
 */
export function shedOnArrival(waiting: number, limits: QueueLimits): ShedReason | null {
  if (limits.limit > 0 && waiting >= limits.limit) return 'limit';
  return null;
}

/** Whether a request that has waited `waitedMs` is shed now. */
export function shedOnWait(waitedMs: number, limits: QueueLimits): ShedReason | null {
  if (limits.timeoutMs > 0 && waitedMs >= limits.timeoutMs) return 'timeout';
  return null;
}

/**
 * The Retry-After value, in whole seconds. A client retrying sooner than the queue can drain
 * only refills it, so the hint is the queue timeout (the longest a request waits before it is
 * served or shed), at least 1 s (0 would invite an immediate retry) and at most 60 s.
 */
export function retryAfterSeconds(limits: QueueLimits): number {
  const s = Math.ceil(limits.timeoutMs / 1000);
  return Math.min(60, Math.max(1, s));
}

export interface QueueStats {
  waiting: number;
  highWater: number;
  shed: Record<ShedReason, number>;
}

interface Waiter {
  since: number;
  timer: NodeJS.Timeout | null;
  onShed: (reason: ShedReason) => void;
}

/**
 * Counts waiting requests and sheds them. `enter` returns a ticket, or null when the request is
 * shed on arrival (the caller answers 503); `leave` is called when the request got a slot or
 * its client left. A timed-out request's onShed is called once and its ticket is then inert.
 */
export class RequestQueue {
  private readonly waiters = new Set<Waiter>();
  private highWater = 0;
  private readonly shed: Record<ShedReason, number> = { limit: 0, timeout: 0 };
  private readonly logShed: (reason: ShedReason) => void;

  constructor(
    private readonly limits: QueueLimits,
    log: (shedSinceLastLine: number, reason: ShedReason) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.logShed = onceASecond(log, now);
  }

  get waiting(): number {
    return this.waiters.size;
  }

  enter(onShed: (reason: ShedReason) => void): object | null {
    const reason = shedOnArrival(this.waiters.size, this.limits);
    if (reason) {
      this.count(reason);
      return null;
    }
    const w: Waiter = { since: this.now(), timer: null, onShed };
    if (this.limits.timeoutMs > 0) {
      w.timer = setTimeout(() => {
        if (!this.waiters.delete(w)) return;
        this.count('timeout');
        w.onShed('timeout');
      }, this.limits.timeoutMs);
      w.timer.unref();
    }
    this.waiters.add(w);
    if (this.waiters.size > this.highWater) this.highWater = this.waiters.size;
    return w;
  }

  leave(ticket: object | null): void {
    if (!ticket) return;
    const w = ticket as Waiter;
    if (!this.waiters.delete(w)) return;
    if (w.timer) clearTimeout(w.timer);
  }

  stats(): QueueStats {
    return { waiting: this.waiters.size, highWater: this.highWater, shed: { ...this.shed } };
  }

  private count(reason: ShedReason): void {
    this.shed[reason]++;
    this.logShed(reason);
  }
}
