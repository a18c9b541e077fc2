import type { ChildProcess } from 'node:child_process';
import { ByteBudget, LineLimits, MAX_BYTES_PER_SECOND } from '../../ipc/line-limits.js';
import type { Logger } from '../../log/logger.js';
import {
  channelFd,
  channelFdBeingRead,
  inspectChannelReads,
  seesChannelReads,
} from '../../platform/ipc-channel.js';
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

/** Where a channel that cannot be read goes: guardChannels' owners, while they are installed. */
let stopReader: ((fd: number | null, reason: string) => boolean) | null = null;
/** The bytes a second all children's channels draw on together (the app runs in every worker). */
const budget = new ByteBudget(MAX_BYTES_PER_SECOND);
/** Said once per master: the check passed, yet a child's channel handle was not where it was. */
let warnUnseen: (() => void) | null = null;

/**
 * Bound what Node's reader parses of a child's channel (ipc/line-limits.ts): the bytes of a line
 * over a bound are never handed to Node, nor is anything after them, and the child is stopped
 * like one whose channel broke (a child no owner has yet, the spare, only loses its channel).
 * Called at each fork, before the channel is first read. False: the reads cannot be seen
 * (platform/ipc-channel.ts), and Node parses every line as it comes.
 */
export function boundChannel(child: ChildProcess): boolean {
  const limits = new LineLimits(budget);
  let told = false;
  const seen = inspectChannelReads(child, (bytes) => {
    const problem = limits.feed(bytes);
    if (problem === null) return true;
    if (!told) {
      told = true;
      const fd = channelFd(child);
      process.nextTick(() => {
        if (!stopReader?.(fd, problem) && child.connected) child.disconnect();
      });
    }
    return false;
  });
  if (!seen && seesChannelReads()) warnUnseen?.();
  return seen;
}

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
  const stop = (fd: number | null, reason: string): boolean => {
    if (owners.some((owner) => owner(fd, reason))) return true;
    dropMessage(closed, `an IPC channel could not be read (${reason})`, logger, false);
    return false;
  };
  stopReader = stop;
  warnUnseen = () => {
    warnUnseen = null;
    logger.warn(
      { node: process.version },
      `Node ${process.version} keeps a child's IPC channel handle elsewhere: the IPC messages of workers and the router are parsed whatever their size, as Node does`,
    );
  };
  const listener = (err: unknown) => {
    if (isChannelParseError(err)) {
      stop(channelFdBeingRead(), `${err.name}: ${err.message.slice(0, 200)}`);
      return;
    }
    process.off('uncaughtException', listener);
    process.nextTick(() => {
      throw err;
    });
  };
  process.on('uncaughtException', listener);
  return () => {
    process.off('uncaughtException', listener);
    if (stopReader === stop) stopReader = null;
  };
}

/**
 * A handle a child sends with a message (a socket, a listening server) is closed at once: no
 * message of tsgun's protocol carries one, and Node would otherwise hold it in the master (a
 * server it even listens on). Called at each fork.
 */
export function refuseHandles(child: ChildProcess): void {
  child.on('message', (_message: unknown, handle: unknown) => {
    if (handle === null || typeof handle !== 'object') return;
    const h = handle as { destroy?: () => void; close?: () => void };
    try {
      if (typeof h.destroy === 'function') h.destroy();
      else h.close?.();
    } catch {
      // Already closed.
    }
  });
}
