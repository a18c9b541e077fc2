import { executionAsyncResource } from 'node:async_hooks';
import type { ChildProcess } from 'node:child_process';

/**
 * Which child's IPC channel is being read, to pin a channel parse error (thrown by Node's reader,
 * outside any listener of tsgun's) on the child that sent it. Both reads are of Node's handle
 * objects, not public: without them the error is still caught and logged, but pinned on no child.
 */

/** The fd of a child's IPC channel. */
export function channelFd(child: ChildProcess): number | null {
  const fd = (child.channel as { fd?: unknown } | null | undefined)?.fd;
  return typeof fd === 'number' ? fd : null;
}

/** The fd of the channel whose read is running now (the current async resource), if known. */
export function channelFdBeingRead(): number | null {
  const resource = executionAsyncResource() as { fd?: unknown } | null;
  return typeof resource?.fd === 'number' ? resource.fd : null;
}
