import { executionAsyncResource } from 'node:async_hooks';
import type { ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';

/**
 * A child's IPC channel as Node reads it. Node's reader (setupChannel in
 * lib/internal/child_process.js) is the `onread` callback of the channel's pipe handle, kept on
 * the ChildProcess under the symbol `kChannelHandle`; libuv calls it with an ArrayBuffer of
 * exactly the bytes read (the `ipc-read` check, checks.ts, sees this on a TCP handle, the same
 * stream code). A callback put before it sees every byte before Node parses any of it. Neither
 * member is public: without the handle, lines are parsed unbounded, as Node does.
 *
 * Also which child's channel is being read, to pin a channel parse error (thrown by Node's
 * reader, outside any listener of tsgun's) on the child that sent it: without it the error is
 * still caught and logged, but pinned on no child.
 */

type ReadCallback = (this: unknown, ...args: unknown[]) => unknown;
interface StreamHandle {
  onread?: ReadCallback;
}

/** Whether a channel's bytes are seen before Node parses them (the `ipc-read` check). */
let readsSeen = true;

/** checks.ts: the check failed (or a test broke it): channels are read by Node alone. */
export function parseChannelsUnseen(): void {
  readsSeen = false;
}

export const seesChannelReads = (): boolean => readsSeen;

/**
 * Put `inspect` before the handle's read callback: it gets each read's bytes, and the bytes of a
 * read it answers false to are never handed on. False when the handle has no read callback.
 */
function interpose(handle: StreamHandle, inspect: (bytes: Uint8Array) => boolean): boolean {
  const read = handle.onread;
  if (typeof read !== 'function') return false;
  handle.onread = function (this: unknown, ...args: unknown[]): unknown {
    const [arrayBuffer] = args;
    if (arrayBuffer instanceof ArrayBuffer && !inspect(new Uint8Array(arrayBuffer))) return;
    return Reflect.apply(read, this, args);
  };
  return true;
}

/** The pipe handle Node reads a child's channel from, if it can be found. */
function channelHandle(child: ChildProcess): StreamHandle | null {
  for (const key of Object.getOwnPropertySymbols(child)) {
    if (key.description !== 'kChannelHandle') continue;
    const handle = (child as unknown as Record<symbol, unknown>)[key];
    return handle !== null && typeof handle === 'object' ? (handle as StreamHandle) : null;
  }
  return null;
}

/**
 * Have `inspect` see every byte of the child's channel before Node's reader parses it; bytes it
 * refuses Node never reads. False when the reads cannot be seen (the check failed, or Node keeps
 * the channel elsewhere): the channel is read by Node alone.
 */
export function inspectChannelReads(
  child: ChildProcess,
  inspect: (bytes: Uint8Array) => boolean,
): boolean {
  if (!readsSeen) return false;
  const handle = channelHandle(child);
  return handle !== null && interpose(handle, inspect);
}

/**
 * For the `ipc-read` check: count the bytes a socket's handle is given per read, as a channel
 * inspector would see them. Returns the running total (-1: the handle has no read callback).
 */
export function countHandleReads(socket: Socket): () => number {
  const handle = (socket as unknown as { _handle?: StreamHandle | null })._handle;
  let total = 0;
  const ok =
    handle != null &&
    interpose(handle, (bytes) => {
      total += bytes.length;
      return true;
    });
  return () => (ok ? total : -1);
}

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
