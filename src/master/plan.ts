/**
 * Pure decisions of the arbiter: which workers to spawn or stop, which are stuck. No I/O here, so
 * every rule has a fast unit test; the arbiter only carries the actions out.
 */

export type WorkerState = 'booting' | 'ready' | 'closing';

export interface WorkerView {
  readonly id: number;
  readonly generation: number;
  readonly state: WorkerState;
  /** Asked to be replaced (--max-requests): replaced like a worker of an older generation. */
  readonly retiring: boolean;
  readonly spawnedAt: number;
  readonly lastHeartbeat: number;
  /** When it was told to stop; only for state 'closing'. */
  readonly closingSince: number | null;
}

export interface PlanInput {
  readonly workers: readonly WorkerView[];
  readonly target: number;
  readonly generation: number;
  /** False after a boot failure while others serve: wait for the operator instead of looping. */
  readonly spawnAllowed: boolean;
}

export type Action =
  | { readonly kind: 'spawn'; readonly count: number }
  | { readonly kind: 'stop'; readonly ids: readonly number[] };

const isStale = (w: WorkerView, generation: number) => w.generation < generation || w.retiring;
const oldestFirst = (a: WorkerView, b: WorkerView) => a.spawnedAt - b.spawnedAt || a.id - b.id;

/**
 * Keep `target` current workers. Stale workers (older generation after HUP, or retiring after
 * max-requests) are replaced one at a time: spawn one, wait until it is accepting, then stop one
 * stale worker. So capacity never drops below target during a reload, and never more than one
 * extra worker boots at once. Extra workers (TTOU) are stopped oldest first, but not while a
 * worker is booting, so a reload's spare capacity is not cut short.
 */
export function planWorkers(input: PlanInput): Action[] {
  const { target, generation } = input;
  const alive = input.workers.filter((w) => w.state !== 'closing');
  const booting = alive.filter((w) => w.state === 'booting');
  const stale = alive.filter((w) => isStale(w, generation)).sort(oldestFirst);
  const fresh = alive.filter((w) => !isStale(w, generation));
  const actions: Action[] = [];

  if (alive.length > target && booting.length === 0) {
    const extra = alive.length - target;
    const victims = [...stale, ...fresh.slice().sort(oldestFirst)].slice(0, extra);
    actions.push({ kind: 'stop', ids: victims.map((w) => w.id) });
    return actions;
  }
  if (!input.spawnAllowed || fresh.length >= target) return actions;
  if (stale.length === 0) {
    actions.push({ kind: 'spawn', count: target - fresh.length });
  } else if (booting.length === 0 && alive.length <= target) {
    actions.push({ kind: 'spawn', count: 1 });
  }
  return actions;
}

/** Workers whose event loop has not beaten for longer than the timeout (0 = never). */
export function findTimedOut(
  workers: readonly WorkerView[],
  now: number,
  timeoutMs: number,
): number[] {
  if (timeoutMs <= 0) return [];
  return workers.filter((w) => now - w.lastHeartbeat > timeoutMs).map((w) => w.id);
}

/** Stopping workers still alive after the graceful timeout: they get SIGKILL. */
export function findOverdue(
  workers: readonly WorkerView[],
  now: number,
  gracefulMs: number,
): number[] {
  return workers
    .filter(
      (w) => w.state === 'closing' && w.closingSince !== null && now - w.closingSince > gracefulMs,
    )
    .map((w) => w.id);
}
