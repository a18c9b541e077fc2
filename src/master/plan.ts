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
  /** False after a boot failure while others serve, or during a crash backoff. */
  readonly spawnAllowed: boolean;
  /** How many stale workers are replaced at once (--reload-batch). */
  readonly batch: number;
}

export type Action =
  | { readonly kind: 'spawn'; readonly count: number }
  | { readonly kind: 'stop'; readonly ids: readonly number[] };

const isStale = (w: Pick<WorkerView, 'generation' | 'retiring'>, generation: number) =>
  w.generation < generation || w.retiring;
const oldestFirst = (a: WorkerView, b: WorkerView) => a.spawnedAt - b.spawnedAt || a.id - b.id;

/**
 * Keep `target` current workers. Stale workers (older generation after HUP, or retiring after
 * max-requests, lifetime or RSS) are replaced one batch at a time: spawn a batch, wait until every
 * one is ready, then stop as many stale workers. So capacity never drops below target during a
 * reload, and never more than one batch boots at once. Extra workers (TTOU) are stopped oldest first, but not while a
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
    actions.push({ kind: 'spawn', count: Math.min(input.batch, target - fresh.length) });
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

/** Workers still booting (not ready) longer than --ready-timeout. */
export function findNotReady(
  workers: readonly WorkerView[],
  now: number,
  readyTimeoutMs: number,
): number[] {
  return workers
    .filter((w) => w.state === 'booting' && now - w.spawnedAt > readyTimeoutMs)
    .map((w) => w.id);
}

export interface CrashStreak {
  readonly count: number;
  readonly lastCrashAt: number;
}

/** Crashes further apart than this start a new streak. */
export const CRASH_WINDOW_MS = 10_000;
const BACKOFF_BASE_MS = 100;
export const BACKOFF_CAP_MS = 10_000;

/**
 * Crash-loop protection: the first crash is respawned at once, each further crash within the
 * window doubles the wait (100 ms, 200 ms, ... capped at 10 s), so a worker that dies on every
 * request cannot spin the CPU, and a rare crash still costs no delay.
 */
export function nextCrashStreak(
  prev: CrashStreak,
  now: number,
): { streak: CrashStreak; delayMs: number } {
  const count = now - prev.lastCrashAt > CRASH_WINDOW_MS ? 1 : prev.count + 1;
  const delayMs = count <= 1 ? 0 : Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (count - 2));
  return { streak: { count, lastCrashAt: now }, delayMs };
}

/** What choosing a worker index needs to know of each worker. */
export interface IndexedWorker {
  readonly id: number;
  /** TSGUN_WORKER_INDEX (and NODE_APP_INSTANCE): 0..workers-1, stable across replacements. */
  readonly index: number;
  readonly generation: number;
  readonly state: WorkerState;
  readonly retiring: boolean;
  readonly spawnedAt: number;
}

/**
 * The index of the worker about to be forked. A replacement takes the index of the worker it
 * replaces: during a reload or a recycle that is the oldest stale worker whose index no current
 * worker holds yet (planWorkers stops stale workers oldest first, so it is the one that goes);
 * after a crash the dead worker's index is free again. Otherwise (start, TTIN) the lowest index
 * no live worker holds. Stopping workers hold nothing: they are on their way out.
 */
export function pickWorkerIndex(workers: readonly IndexedWorker[], generation: number): number {
  const alive = workers.filter((w) => w.state !== 'closing');
  const stale = alive.filter((w) => isStale(w, generation));
  const freshIndexes = new Set(alive.filter((w) => !isStale(w, generation)).map((w) => w.index));
  const replaced = stale
    .filter((w) => !freshIndexes.has(w.index))
    .sort((a, b) => a.spawnedAt - b.spawnedAt || a.id - b.id)[0];
  if (replaced) return replaced.index;
  const held = new Set(alive.map((w) => w.index));
  let index = 0;
  while (held.has(index)) index++;
  return index;
}
