import type { WorkerMessage } from '../../ipc/protocol.js';
import { receiveFromWorker } from '../../ipc/receive.js';
import type { Logger } from '../../log/logger.js';
import { FLOOD, SenderGuard } from './sender-guard.js';

type MessageOf<T extends WorkerMessage['type']> = Extract<WorkerMessage, { type: T }>;

/** One small handler per message type a worker sends; a type with no handler is ignored. */
export type WorkerMessageHandlers<W> = {
  readonly [T in WorkerMessage['type']]?: (w: W, message: MessageOf<T>) => void;
};

/** One child as the master's guard sees it: for the log, and how to replace it. */
export interface Sender {
  readonly guard: SenderGuard;
  /** 'worker 3', 'the router': the log's words for it. */
  readonly name: string;
  /** Log fields naming it. */
  readonly fields: Readonly<Record<string, unknown>>;
  /** Replace it (gracefully), for `reason`. */
  replace(reason: string): void;
  /** Close its channel and stop it: it went on after `replace`. */
  cut(reason: string): void;
}

/** The guard's view of a worker: replaced like a retire (its replacement first, then TERM). */
export function workerSender(
  w: { readonly id: number; readonly pid: number; retiring: boolean },
  wake: () => void,
  cut: () => void,
): Sender {
  return {
    guard: new SenderGuard(),
    name: `worker ${w.id}`,
    fields: { worker: w.id, workerPid: w.pid },
    replace: () => {
      w.retiring = true;
      wake();
    },
    cut,
  };
}

/** A message is dropped: logged at most once a second per child, and the child maybe replaced. */
export function dropMessage(
  sender: Sender,
  reason: string,
  logger: Logger,
  blame = true,
  now = Date.now(),
): void {
  const { log, replace, cut } = sender.guard.reject(now, reason, blame);
  if (log) {
    const more = log.dropped > 1 ? ` (${log.dropped} dropped since the last such line)` : '';
    logger.warn(
      { ...sender.fields, reason: log.reason, dropped: log.dropped },
      `dropped a message from ${sender.name}: ${log.reason}${more}`,
    );
  }
  if (replace) {
    logger.error({ ...sender.fields, reason: replace }, `replacing ${sender.name}: ${replace}`);
    sender.replace(replace);
  }
  if (cut) {
    logger.error(
      { ...sender.fields, reason: cut },
      `closing the IPC channel of ${sender.name}: ${cut}`,
    );
    sender.cut(cut);
  }
}

/**
 * A message from a child's IPC channel, checked before any of it is used: one over the rate or
 * malformed is dropped (dropMessage); one not of the protocol (the app's own process.send) is
 * ignored but counts toward the rate. Returns the message to handle, or null.
 */
export function admitMessage(
  sender: Sender,
  value: unknown,
  logger: Logger,
  now = Date.now(),
): WorkerMessage | null {
  if (!sender.guard.arrive(now)) {
    dropMessage(sender, FLOOD, logger, true, now);
    return null;
  }
  const received = receiveFromWorker(value);
  if (received.kind === 'invalid') dropMessage(sender, received.reason, logger, true, now);
  return received.kind === 'ours' ? received.message : null;
}

/** Thrown by a handler: a well-formed message the protocol does not allow now (held against the child). */
export class BadMessage extends Error {}

/**
 * Messages a worker sends once (`ready`, and `jobs` before it): a second one, or `jobs` after
 * `ready`, is a BadMessage (dropped, and the worker replaced if it keeps at it). Each `jobs`
 * reschedules every app job and each `ready` has router mode push the upstream list.
 */
export class OnceMessages {
  private readonly said = new Map<number, Set<string>>();

  check(id: number, type: 'ready' | 'jobs'): void {
    const seen = this.said.get(id) ?? new Set<string>();
    this.said.set(id, seen);
    if (seen.has(type) || seen.has('ready'))
      throw new BadMessage(`${type} after ready or sent twice`);
    seen.add(type);
  }

  forget(id: number): void {
    this.said.delete(id);
  }
}

/**
 * Run a handler. A BadMessage is the child's fault (dropMessage); any other exception is the
 * master's bug: logged (rate-limited) and never held against the child. Nothing is thrown.
 */
export function runHandler(sender: Sender, type: string, logger: Logger, handle: () => void): void {
  try {
    handle();
  } catch (err) {
    if (err instanceof BadMessage) {
      dropMessage(sender, err.message, logger, true);
      return;
    }
    const reason = `its ${type} message failed: ${err instanceof Error ? err.message : String(err)}`;
    dropMessage(sender, reason, logger, false);
  }
}

/**
 * A message from a worker's IPC channel: admitted (admitMessage), any message of ours is a sign
 * of life, then its handler runs (runHandler). Never throws.
 */
export function dispatchWorkerMessage<W extends { readonly id: number; lastHeartbeat: number }>(
  handlers: WorkerMessageHandlers<W>,
  w: W,
  value: unknown,
  logger: Logger,
  sender: Sender,
): void {
  const message = admitMessage(sender, value, logger);
  if (!message) return;
  w.lastHeartbeat = Date.now();
  const handler = handlers[message.type] as ((w: W, m: WorkerMessage) => void) | undefined;
  if (handler) runHandler(sender, message.type, logger, () => handler(w, message));
}
