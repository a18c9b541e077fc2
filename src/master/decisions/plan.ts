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
  /** False during a crash backoff (or while a failed fork is being reported). */
  readonly spawnAllowed: boolean;
  /**
   * Workers fail to boot (none ready since): one attempt at a time, so a broken app costs one
   * boot per backoff, not one per missing worker.
   */
  readonly probe?: boolean;
  /** How many stale workers are replaced at once (--reload-batch). */
  readonly batch: number;
}

export type Action =
  | { readonly kind: 'spawn'; readonly count: number }
  | { readonly kind: 'stop'; readonly ids: readonly number[] };

/** A worker the plan replaces: of an older generation (after HUP), or retiring. */
export const isStale = (w: Pick<WorkerView, 'generation' | 'retiring'>, generation: number) =>
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
  if (input.probe) {
    if (booting.length === 0) actions.push({ kind: 'spawn', count: 1 });
  } else if (stale.length === 0) {
    actions.push({ kind: 'spawn', count: target - fresh.length });
  } else if (booting.length === 0 && alive.length <= target) {
    actions.push({ kind: 'spawn', count: Math.min(input.batch, target - fresh.length) });
  }
  return actions;
}

/**
 * How many workers of the current code the plan still has to start: after an exit, whether the
 * master respawns at all (not after WINCH or during a scale-down), so the log never says so in vain.
 */
export function missingWorkers(
  workers: readonly Pick<WorkerView, 'generation' | 'retiring' | 'state'>[],
  target: number,
  generation: number,
): number {
  const fresh = workers.filter((w) => w.state !== 'closing' && !isStale(w, generation));
  return Math.max(0, target - fresh.length);
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

/**
 * The signal that stops a worker (TERM drains, QUIT stops now), or null when it has had it: a
 * worker draining after a HUP that then meets the master's stop gets no second TERM, since every
 * TERM runs the app's own SIGTERM handler again. A QUIT after a TERM still goes: it shortens the
 * drain to the quick-stop grace.
 */
export function stopSignal(
  sent: 'SIGTERM' | 'SIGQUIT' | null,
  mode: 'graceful' | 'quick',
): 'SIGTERM' | 'SIGQUIT' | null {
  if (sent === 'SIGQUIT' || (sent === 'SIGTERM' && mode === 'graceful')) return null;
  return mode === 'graceful' ? 'SIGTERM' : 'SIGQUIT';
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
  /** When its wait ends: spawns may happen again from then on. */
  readonly resumeAt: number;
}

/** Crashes further apart than this (from the end of the previous wait) start a new streak. */
export const CRASH_WINDOW_MS = 10_000;
const BACKOFF_BASE_MS = 100;
export const BACKOFF_CAP_MS = 10_000;

/**
 * Crash-loop protection: the first crash is respawned at once, each further crash within the
 * window doubles the wait (100 ms, 200 ms, ... capped at 10 s), so a worker that dies on every
 * request (or cannot boot) cannot spin the CPU, and a rare crash still costs no delay. The window
 * counts from the end of the previous wait: measured from the crash itself, a wait at the cap
 * would outlast the window and every capped retry would start a fresh streak of quick ones.
 */
export function nextCrashStreak(
  prev: CrashStreak,
  now: number,
): { streak: CrashStreak; delayMs: number } {
  const count = now - prev.resumeAt > CRASH_WINDOW_MS ? 1 : prev.count + 1;
  const delayMs = count <= 1 ? 0 : Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (count - 2));
  return { streak: { count, lastCrashAt: now, resumeAt: now + delayMs }, delayMs };
}

/**
 * What `tsgun status` says of missing workers: how many, after how many failed boots (or
 * crashes), and when the next attempt is; null when the count is whole.
 */
export function respawnState(facts: {
  /** missingWorkers(): what the plan will spawn. */
  readonly missing: number;
  readonly failedBoots: number;
  readonly crashes: number;
  readonly resumeAt: number;
  readonly now: number;
}): { missing: number; failedBoots: number; crashes: number; inMs: number } | null {
  const { missing } = facts;
  if (missing <= 0) return null;
  const inMs = Number.isFinite(facts.resumeAt) ? Math.max(0, facts.resumeAt - facts.now) : 0;
  return { missing, failedBoots: facts.failedBoots, crashes: facts.crashes, inMs };
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
