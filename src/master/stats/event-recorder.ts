/**
 * The master's timeline: the records of its own log that tell what happened to the workers
 * (spawned, ready, exited, killed, recycled, reloads, crash backoff, scale, config errors on HUP),
 * kept in a bounded ring with a sequence number. It is fed from the master's log (pino's
 * streamWrite hook) so that nothing else in the master has to report to it: the log already
 * says every event, and `/events` and the dashboard read the same source.
 */

export type EventKind =
  | 'start'
  | 'stop'
  | 'spawn'
  | 'ready'
  | 'exit'
  | 'crash'
  | 'backoff'
  | 'kill'
  | 'recycle'
  | 'reload'
  | 'reload-done'
  | 'reload-aborted'
  | 'config-error'
  | 'scale'
  | 'router'
  | 'queue-full'
  | 'warning'
  | 'error';

export interface TimelineEvent {
  /** Per master, from 1: `/events` resumes after the last one a client saw. */
  readonly seq: number;
  readonly time: string;
  readonly kind: EventKind;
  readonly level: 'info' | 'warn' | 'error' | 'fatal';
  /** The log line's message, cut at MAX_MSG characters. */
  readonly msg: string;
  readonly worker?: number;
  readonly workerIndex?: number;
  readonly workerPid?: number;
  readonly generation?: number;
  readonly workers?: number;
  readonly reason?: string;
  readonly code?: number | null;
  readonly signal?: string | null;
  readonly retryInMs?: number;
}

const MAX_MSG = 400;

/** Info records that are events, by the start of their message; the first match names the kind. */
const RULES: readonly (readonly [RegExp, EventKind])[] = [
  [/^(starting tsgun|listening at|master has been promoted)/, 'start'],
  [/^(stopping (gracefully|now)|shutdown complete|halting|TERM: )/, 'stop'],
  [/^booting worker/, 'spawn'],
  [/^worker ready/, 'ready'],
  [/^worker exited/, 'exit'],
  [/^replacing worker/, 'recycle'],
  [/^reloading/, 'reload'],
  [/^reload complete/, 'reload-done'],
  [/reload aborted/, 'reload-aborted'],
  [/^reload: config is invalid/, 'config-error'],
  [/^(cron: restarting|--reload: .* changed)/, 'reload'],
  [/^(TTIN|TTOU|WINCH|scale|-w auto|reload: keeping)/, 'scale'],
  [/^(WORKER TIMEOUT|worker not ready within|worker did not stop in time)/, 'kill'],
  [/retrying in /, 'backoff'],
  [/respawning|not respawned|not retried/, 'crash'],
  [/router/, 'router'],
  [/^listen queue full/, 'queue-full'],
];

const LEVELS: Record<number, TimelineEvent['level']> = {
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

/** What kind of timeline event a master log record is; null: not one (debug, other info). */
export function eventKind(level: number, msg: string): EventKind | null {
  if (level < 30) return null;
  for (const [re, kind] of RULES) if (re.test(msg)) return kind;
  if (level >= 50) return 'error';
  if (level >= 40) return 'warning';
  return null;
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown) => (typeof v === 'string' ? v.slice(0, 100) : undefined);

/** The event a parsed log record makes, or null. Pure: fields are copied only when well typed. */
export function toEvent(seq: number, rec: Record<string, unknown>): TimelineEvent | null {
  const level = num(rec['level']) ?? 0;
  const msg = typeof rec['msg'] === 'string' ? rec['msg'] : '';
  const kind = eventKind(level, msg);
  if (!kind) return null;
  const event: Record<string, unknown> = {
    seq,
    time: str(rec['time']) ?? new Date().toISOString(),
    kind,
    level: LEVELS[Math.min(60, Math.floor(level / 10) * 10)] ?? 'info',
    msg: msg.length > MAX_MSG ? `${msg.slice(0, MAX_MSG)}...` : msg,
  };
  for (const key of [
    'worker',
    'workerIndex',
    'workerPid',
    'generation',
    'workers',
    'retryInMs',
  ] as const) {
    const v = num(rec[key]);
    if (v !== undefined) event[key] = v;
  }
  const reason = str(rec['reason']);
  if (reason !== undefined) event['reason'] = reason;
  if ('code' in rec) event['code'] = num(rec['code']) ?? null;
  if ('signal' in rec) event['signal'] = str(rec['signal']) ?? null;
  return event as unknown as TimelineEvent;
}

/**
 * Where a client that saw `lastId` (an SSE Last-Event-ID, `PID-SEQ`) resumes: after that seq
 * when it came from this master, from the start of the ring when from another one (a USR2's
 * new master answers on the same address) or none.
 */
export function resumeAfter(lastId: string | undefined, pid: number): number {
  const m = /^(\d+)-(\d+)$/.exec(lastId?.trim() ?? '');
  return m && Number(m[1]) === pid ? Number(m[2]) : 0;
}

export type EventListener = (e: TimelineEvent) => void;

export class EventRecorder {
  private readonly ring: TimelineEvent[] = [];
  private seq = 0;
  private readonly listeners = new Set<EventListener>();

  constructor(
    readonly capacity = 1000,
    /** Live `/events` streams at once; more are refused (503). */
    readonly maxListeners = 16,
  ) {}

  /** One serialized log line, as pino writes it. Never throws: the log must not fail over this. */
  line(text: string): void {
    // Cheap test first: most lines are not events, and only JSON objects are records.
    if (text.charCodeAt(0) !== 123) return;
    try {
      this.record(JSON.parse(text) as Record<string, unknown>);
    } catch {
      // Not a record: nothing to keep.
    }
  }

  record(rec: Record<string, unknown>): TimelineEvent | null {
    if (rec === null || typeof rec !== 'object') return null;
    const event = toEvent(this.seq + 1, rec);
    if (!event) return null;
    this.seq++;
    this.ring.push(event);
    if (this.ring.length > this.capacity) this.ring.shift();
    for (const fn of this.listeners) {
      try {
        fn(event);
      } catch {
        // A client's failure is its own: the others and the log carry on.
      }
    }
    return event;
  }

  /** The kept events after `seq`, oldest first. */
  since(seq: number): TimelineEvent[] {
    return this.ring.filter((e) => e.seq > seq);
  }

  /** Calls fn with each new event; null when maxListeners are already listening. */
  subscribe(fn: EventListener): (() => void) | null {
    if (this.listeners.size >= this.maxListeners) return null;
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  get listening(): number {
    return this.listeners.size;
  }
}
