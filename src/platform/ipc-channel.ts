import { executionAsyncResource } from 'node:async_hooks';
import type { ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';

/**
 * A child's IPC channel as Node reads it. Node's reader (setupChannel in
 * lib/internal/child_process.js) is the `onread` callback of the channel's pipe handle, kept on
 * the ChildProcess under the symbol `kChannelHandle`; libuv calls it with an ArrayBuffer whose
 * bytes read are at an offset and of a length Node's stream code leaves in `streamBaseState`
 * (the stream_wrap binding; the buffer is often larger than the read on Node 24 and 26). A
 * callback put before it sees every byte before Node parses any of it. None of these is public:
 * the `ipc-read` check (checks.ts) reads a loopback stream this way and compares the bytes;
 * without them, lines are parsed unbounded, as Node does.
 *
 * Also which child's channel is being read, to pin a channel parse error (thrown by Node's
 * reader, outside any listener of tsgun's) on the child that sent it: without it the error is
 * still caught and logged, but pinned on no child.
 */

type ReadCallback = (this: unknown, ...args: unknown[]) => unknown;
interface StreamHandle {
  onread?: ReadCallback;
}
/** What Node's channel reader keeps on the pipe handle, and undoes when it stops reading. */
interface ChannelHandle extends StreamHandle {
  /** Set by Node's JSON reader while a line is incomplete: a disconnect waits for its end. */
  buffering?: boolean;
  /** A handle libuv received with the read (SCM_RIGHTS), for the message that names it. */
  pendingHandle?: { close?(): void } | null;
  readStop?(): number;
}

interface StreamBaseState {
  readonly streamBaseState: Int32Array;
  readonly kReadBytesOrError: number;
  readonly kArrayBufferOffset: number;
}

/**
 * Node's stream_wrap binding, where a read's length and offset are left; null if absent.
 * process.binding() is deprecated in documentation (DEP0111): its warning, printed only under
 * --pending-deprecation, would end the master under --throw-deprecation (thrown on a later
 * tick, past any catch), so deprecations are silenced for this one call.
 */
function loadStreamBase(): StreamBaseState | null {
  const quiet = !process.noDeprecation;
  if (quiet) process.noDeprecation = true;
  try {
    const binding = (process as unknown as { binding(name: string): unknown }).binding(
      'stream_wrap',
    ) as Partial<StreamBaseState> | null;
    return binding?.streamBaseState instanceof Int32Array &&
      typeof binding.kReadBytesOrError === 'number' &&
      typeof binding.kArrayBufferOffset === 'number'
      ? (binding as StreamBaseState)
      : null;
  } catch {
    return null;
  } finally {
    if (quiet) process.noDeprecation = false;
  }
}
let streamBase: StreamBaseState | null | undefined;

/** Whether a channel's bytes are seen before Node parses them (the `ipc-read` check). */
let readsSeen = true;

/** checks.ts: the check failed (or a test broke it): channels are read by Node alone. */
export function parseChannelsUnseen(): void {
  readsSeen = false;
}

export const seesChannelReads = (): boolean => readsSeen;

/**
 * Put `inspect` before the handle's read callback: it gets each read's bytes, and a read it
 * answers false to is never handed on (`refused` runs instead). False when the handle or Node's
 * read state is missing.
 */
function interpose(
  handle: StreamHandle,
  inspect: (bytes: Uint8Array) => boolean,
  refused: () => void = () => {},
): boolean {
  const read = handle.onread;
  streamBase ??= loadStreamBase();
  const base = streamBase;
  if (typeof read !== 'function' || base === null) return false;
  handle.onread = function (this: unknown, ...args: unknown[]): unknown {
    const [arrayBuffer] = args;
    if (arrayBuffer instanceof ArrayBuffer) {
      const length = base.streamBaseState[base.kReadBytesOrError] ?? 0;
      const offset = base.streamBaseState[base.kArrayBufferOffset] ?? 0;
      if (length > 0 && offset >= 0 && offset + length <= arrayBuffer.byteLength) {
        if (!inspect(new Uint8Array(arrayBuffer, offset, length))) {
          refused();
          return;
        }
      }
    }
    return Reflect.apply(read, this, args);
  };
  return true;
}

/** The pipe handle Node reads a child's channel from, if it can be found. */
function channelHandle(child: ChildProcess): ChannelHandle | null {
  for (const key of Object.getOwnPropertySymbols(child)) {
    if (key.description !== 'kChannelHandle') continue;
    const handle = (child as unknown as Record<symbol, unknown>)[key];
    return handle !== null && typeof handle === 'object' ? (handle as ChannelHandle) : null;
  }
  return null;
}

/** What Node keeps on a ChildProcess while it sends a handle (a listening socket, to a worker). */
interface SendingChild {
  /** Messages waiting for the child's ACK of the handle in flight: a disconnect waits for it. */
  _handleQueue?: unknown[] | null;
}

type Closable = { close?(): void };

/**
 * Have `inspect` see every byte of the child's channel before Node's reader parses it. Once it
 * refuses a read, the channel reads no more and the caller's disconnect closes it at once: Node's
 * reader is left as at the end of a line (a disconnect waits while `buffering`), the child's ACK
 * of a handle being sent is no longer awaited (it sits behind the refused bytes), and a handle the
 * child sent that no message has taken yet (Node holds it for a message still to come) is
 * closed. False when the reads cannot be seen (Node keeps the channel elsewhere): Node
 * alone reads it.
 */
export function inspectChannelReads(
  child: ChildProcess,
  inspect: (bytes: Uint8Array) => boolean,
): boolean {
  if (!readsSeen) return false;
  const handle = channelHandle(child);
  if (handle === null) return false;
  let received: Closable | null = null;
  // Node hands the handle it holds to the NODE_HANDLE message that ends after it.
  child.on('internalMessage', (message: { cmd?: unknown } | null) => {
    if (message?.cmd === 'NODE_HANDLE') received = null;
  });
  return interpose(
    handle,
    (bytes) => {
      const carried = handle.pendingHandle;
      if (carried) received = carried;
      return inspect(bytes);
    },
    () => {
      for (const h of new Set([received, handle.pendingHandle])) h?.close?.();
      received = null;
      handle.pendingHandle = null;
      handle.buffering = false;
      handle.readStop?.();
      (child as unknown as SendingChild)._handleQueue = null;
    },
  );
}

/**
 * For the `ipc-read` check: the bytes a socket's handle is given, read by read, as a channel's
 * inspector sees them; null when they cannot be seen.
 */
export function recordHandleReads(socket: Socket): (() => Buffer) | null {
  const handle = (socket as unknown as { _handle?: StreamHandle | null })._handle;
  const reads: Uint8Array[] = [];
  const ok =
    handle != null &&
    interpose(handle, (bytes) => {
      reads.push(Uint8Array.prototype.slice.call(bytes));
      return true;
    });
  return ok ? () => Buffer.concat(reads) : null;
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
