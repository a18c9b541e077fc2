import { receiveFromWorker, type WorkerMessage } from '../ipc/protocol.js';
import type { Logger } from '../log/logger.js';

type MessageOf<T extends WorkerMessage['type']> = Extract<WorkerMessage, { type: T }>;

/** One small handler per message type a worker sends; a type with no handler is ignored. */
export type WorkerMessageHandlers<W> = {
  readonly [T in WorkerMessage['type']]?: (w: W, message: MessageOf<T>) => void;
};

/**
 * A message from a worker's IPC channel: anything that is not ours is ignored (a malformed one of
 * ours with a warning); any message of ours is a sign of life; then its handler runs.
 */
export function dispatchWorkerMessage<W extends { readonly id: number; lastHeartbeat: number }>(
  handlers: WorkerMessageHandlers<W>,
  w: W,
  value: unknown,
  logger: Logger,
): void {
  const received = receiveFromWorker(value);
  if (received.kind === 'invalid') {
    logger.warn(
      { worker: w.id, reason: received.reason },
      'ignored a malformed message from a worker',
    );
  }
  if (received.kind !== 'ours') return;
  const message = received.message;
  w.lastHeartbeat = Date.now();
  const handler = handlers[message.type] as ((w: W, m: WorkerMessage) => void) | undefined;
  handler?.(w, message);
}
