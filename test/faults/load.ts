import { clientLoop } from '../helpers/http.js';
import { pollUntil, type Tsgun } from '../helpers/tsgun.js';

/** One row of the fault table: what the clients saw during a scenario. */
export interface Figures {
  readonly id: string;
  readonly scenario: string;
  readonly sent: number;
  readonly ok: number;
  readonly failed: number;
  /** Failures the scenario itself causes (requests a killed worker held); 0 for most. */
  readonly allowed: number;
  readonly note: string;
}

export interface Scenario {
  readonly id: string;
  readonly title: string;
  run(): Promise<Figures>;
}

/** How requests reach the workers in a scenario: direct accept, or through router process(es). */
export interface Mode {
  /** Appended to the scenario's id (`a`, `a-r`, `a-r2`). */
  readonly suffix: string;
  /** Appended to the scenario's title. */
  readonly label: string;
  readonly args: readonly string[];
  /** Router processes (0: direct mode). */
  readonly routers: number;
  readonly router: boolean;
}

export const DIRECT: Mode = { suffix: '', label: '', args: [], routers: 0, router: false };
export const ROUTER: Mode = {
  suffix: '-r',
  label: ', --router',
  args: ['--router'],
  routers: 1,
  router: true,
};
export const ROUTER2: Mode = {
  suffix: '-r2',
  label: ', --router --router-processes 2',
  args: ['--router', '--router-processes', '2'],
  routers: 2,
  router: true,
};

/**
 * `workers` workers are ready and, in router mode, every router routes to them. (The public
 * socket is in LISTEN state from the first process that accepts on it: in router mode a router.)
 */
export async function serving(t: Tsgun, mode: Mode, workers: number): Promise<void> {
  await t.waitForReady(workers);
  const routing = new Set<number>();
  const wanted = `routing to ${workers} worker(s)`;
  while (routing.size < mode.routers) {
    const line = await t.waitForLog(
      (l) => l.role === 'router' && l.msg === wanted && !routing.has(l.pid),
    );
    routing.add(line.pid);
  }
  // A router may have its worker list before it accepts (it listens once its boot is done).
  for (const pid of routing)
    await t.waitForLog((l) => l.pid === pid && l.msg === 'router accepting');
}

export const CONCURRENCY = 4;
/** Successful requests the clients make after a scenario's steps, before the load stops. */
const AFTER_FAULT_OK = 20;

/** Start load (half keep-alive, half not), run the scenario's steps, stop the load. */
export async function underLoad(
  t: Tsgun,
  path: string,
  steps: () => Promise<Outcome>,
): Promise<Omit<Figures, 'id' | 'scenario'>> {
  const url = `${await t.url()}${path}`;
  const load = clientLoop(url, { concurrency: CONCURRENCY, maxMs: 60_000 });
  try {
    const { allowed = 0, note } = await steps();
    // The clients go on until requests succeed again after the fault: one over quickly, while
    // every client waited on what it stopped (a SIGSTOPped router), would leave a handful of
    // requests, too few to judge. Service that does not come back fails the scenario.
    const okBefore = load.stats.ok;
    const recovered = await pollUntil(() => load.stats.ok >= okBefore + AFTER_FAULT_OK, 15_000);
    const stats = await load.stop();
    if (!recovered)
      throw new Error(
        `${stats.ok - okBefore} request(s) succeeded in the 15 s after the fault (${AFTER_FAULT_OK} wanted): ${note}`,
      );
    const errors = stats.errors.length ? ` errors: ${[...new Set(stats.errors)].join(', ')}` : '';
    return { sent: stats.sent, ok: stats.ok, failed: stats.failed, allowed, note: note + errors };
  } finally {
    await load.stop();
  }
}

export async function until(check: () => boolean, t: Tsgun, timeoutMs = 15_000): Promise<void> {
  // Re-check on every new log line (each worker start and exit is logged).
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    const mark = t.logs.length;
    await t.waitForLog(() => true, Math.max(1, deadline - Date.now()), mark);
  }
}

/** What a scenario's steps say: the failures the fault itself may take, and a note for the table. */
export interface Outcome {
  readonly allowed?: number;
  readonly note: string;
}

/**
 * A scenario under load: start tsgun, wait until it serves `workers` workers, run `steps` while
 * the clients send GETs to `/`, then kill whatever is left of it.
 */
export function loaded(
  id: string,
  title: string,
  opts: { mode: Mode; workers: number; start: () => Tsgun },
  steps: (t: Tsgun, url: string) => Promise<Outcome>,
): Scenario {
  return {
    id,
    title,
    async run() {
      const t = opts.start();
      try {
        await serving(t, opts.mode, opts.workers);
        const url = await t.url();
        const figures = await underLoad(t, '/', () => steps(t, url));
        return { id, scenario: title, ...figures };
      } finally {
        t.kill();
      }
    },
  };
}
