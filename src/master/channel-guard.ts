import { executionAsyncResource } from 'node:async_hooks';
import type { ChildProcess } from 'node:child_process';

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

/** The fd of a child's IPC channel (what `executionAsyncResource()` is during its reads). */
export function channelFd(child: ChildProcess): number | null {
  const fd = (child.channel as { fd?: unknown } | null | undefined)?.fd;
  return typeof fd === 'number' ? fd : null;
}

/**
 * Catch the channel reader's exceptions in the master and hand them to `onBroken` with the fd
 * of the channel being read. Any other uncaught exception is rethrown without this listener, so
 * Node reports it and exits as it would have. Returns the uninstaller.
 */
export function guardChannels(onBroken: (fd: number | null, err: Error) => void): () => void {
  const listener = (err: unknown) => {
    if (isChannelParseError(err)) {
      const resource = executionAsyncResource() as { fd?: unknown } | null;
      onBroken(typeof resource?.fd === 'number' ? resource.fd : null, err);
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
