/**
 * The control socket's protocol (`tsgun status|reload|scale|stop` and the master): JSON lines over
 * a unix socket, one request line, one answer line. `tsgun: 1` marks every line, as on the worker
 * IPC, so a stray client speaking something else gets a clear refusal instead of a guess.
 */

export const CONTROL_VERSION = 1;

/**
 * The most workers a master keeps (-w, `tsgun scale`, TTIN, -w auto). Node serves many requests
 * per process, so past a few workers per CPU more only cost memory (each a whole Node process),
 * threads and descriptors in the master; 1024 is four per CPU on a 256-CPU host, and on a small
 * one a bound that stops a typo (-w 10000) before it forks the host to a halt.
 */
export const MAX_WORKERS = 1024;

/** The operator verbs, as Gunicorn's signals name them: status reads, the others are queued. */
export type ControlRequest =
  | { readonly tsgun: 1; readonly cmd: 'status' }
  /** HUP: re-read the config, replace the workers. */
  | { readonly tsgun: 1; readonly cmd: 'reload' }
  /** Set the worker count (TTIN/TTOU to a number); 'auto' as `-w auto`. */
  | { readonly tsgun: 1; readonly cmd: 'scale'; readonly workers: number | 'auto' }
  /** TERM (graceful), or QUIT with quick. */
  | { readonly tsgun: 1; readonly cmd: 'stop'; readonly quick: boolean };

/** One worker in `tsgun status`: Gunicorn's `show workers`, with uWSGI's counters. */
export interface ControlWorker {
  readonly index: number;
  readonly pid: number;
  readonly state: string;
  readonly generation: number;
  readonly requests: number;
  readonly rssBytes: number;
  readonly ageSeconds: number;
}

/** Workers are missing: why, and when the master tries again (plan.ts respawnState). */
export interface ControlRespawn {
  readonly missing: number;
  /** Workers that failed to boot since one was last ready. */
  readonly failedBoots: number;
  /** Exits in the current crash streak (crashes, failed boots and failed forks). */
  readonly crashes: number;
  /** Until the next attempt; 0: now (or a worker is booting). */
  readonly inMs: number;
}

export interface ControlStatus {
  readonly name: string;
  readonly version: string;
  readonly pid: number;
  readonly uptimeSeconds: number;
  readonly targetWorkers: number;
  readonly workers: readonly ControlWorker[];
  /** Absent from an older master, null when no worker is missing. */
  readonly respawn?: ControlRespawn | null;
}

export type ControlAnswer =
  | { readonly tsgun: 1; readonly ok: true; readonly pid: number; readonly status?: ControlStatus }
  | { readonly tsgun: 1; readonly ok: false; readonly pid: number; readonly error: string };

/** Longest request line the master reads: anything longer is not a client of ours. */
export const MAX_CONTROL_LINE = 4096;

/** A request line as the master receives it, checked field by field; an Error says what is wrong. */
export function parseControlRequest(line: string): ControlRequest {
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new Error('not a JSON line');
  }
  if (typeof m !== 'object' || m === null || m['tsgun'] !== CONTROL_VERSION)
    throw new Error(`not a tsgun control request (expected "tsgun": ${CONTROL_VERSION})`);
  switch (m['cmd']) {
    case 'status':
    case 'reload':
      return { tsgun: 1, cmd: m['cmd'] };
    case 'stop':
      return { tsgun: 1, cmd: 'stop', quick: m['quick'] === true };
    case 'scale': {
      const w = m['workers'];
      if (
        w === 'auto' ||
        (typeof w === 'number' && Number.isSafeInteger(w) && w >= 1 && w <= MAX_WORKERS)
      )
        return { tsgun: 1, cmd: 'scale', workers: w };
      throw new Error(
        `scale: workers must be an integer between 1 and ${MAX_WORKERS} or "auto", got ${JSON.stringify(w)}`,
      );
    }
    default:
      throw new Error(`unknown command ${JSON.stringify(m['cmd'])}`);
  }
}

/** An answer line as the client receives it; null when it is not one of ours. */
export function parseControlAnswer(line: string): ControlAnswer | null {
  try {
    const m = JSON.parse(line) as Record<string, unknown>;
    if (m['tsgun'] !== CONTROL_VERSION || typeof m['ok'] !== 'boolean') return null;
    if (typeof m['pid'] !== 'number') return null;
    if (m['ok'] === false && typeof m['error'] !== 'string') return null;
    return m as unknown as ControlAnswer;
  } catch {
    return null;
  }
}

/**
 * Where the control socket is when only the pidfile is known: beside it, `.pid` replaced by
 * `.ctl` (`/run/app.pid` -> `/run/app.ctl`; `/run/app` -> `/run/app.ctl`).
 */
export function controlPathFor(pidfile: string): string {
  return `${pidfile.replace(/\.pid$/, '')}.ctl`;
}
