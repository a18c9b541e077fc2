import type { Logger } from '../../log/logger.js';
import { channelFdBeingRead } from '../../platform/ipc-channel.js';
import { SenderGuard } from './sender-guard.js';
import { dropMessage, type Sender } from './worker-messages.js';

/**
 * Node reads a child's IPC channel in its own read callback, before any 'message' listener: a
 * line that is not JSON throws a SyntaxError there, and bytes without a newline pile up in one
 * string until it cannot grow (a RangeError). Either is an uncaught exception in the master,
 * which would end it. Node's frames name `parseChannelMessages`, and while that callback runs
 * the async resource is the channel's pipe handle, whose fd names the child.
 */
export function isChannelParseError(err: unknown): err is Error {
  return err instanceof Error && /\bparseChannelMessages\b/.test(err.stack ?? '');
}

/** Stops the child whose channel has this fd, if it is one of the owner's (true), with reason. */
export type ChannelOwner = (fd: number | null, reason: string) => boolean;

/**
 * Catch the channel reader's exceptions in the master: the owner of the channel being read
 * stops that child and closes the channel. What is still read of a channel just closed has no
 * owner any more: one line a second. Any other uncaught exception is rethrown without this
 * listener, so Node reports it and exits as it would have. Returns the uninstaller.
 */
export function guardChannels(logger: Logger, owners: readonly ChannelOwner[]): () => void {
  const closed: Sender = {
    guard: new SenderGuard(),
    name: 'a closed IPC channel',
    fields: {},
    replace: () => {},
    cut: () => {},
  };
  const listener = (err: unknown) => {
    if (isChannelParseError(err)) {
      const fd = channelFdBeingRead();
      const reason = `${err.name}: ${err.message.slice(0, 200)}`;
      if (!owners.some((stop) => stop(fd, reason)))
        dropMessage(closed, `an IPC channel could not be read (${reason})`, logger, false);
      return;
    }
    process.off('uncaughtException', listener);
    process.nextTick(() => {
      throw err;
    });
  };
  process.on('uncaughtException', listener);
  return () => process.off('uncaughtException', listener);
}
