/**
 * Private members of stdio streams and of pino's destination (sonic-boom), used by the loggers.
 * Each is optional: without it a write may block on a full pipe (stdio) or a reopen swaps the fd
 * at once instead of after the write in flight (sonic-boom).
 */

/** Make stdout's or stderr's pipe non-blocking again (libuv's handle; no public API). */
export function setNonBlocking(stream: NodeJS.WriteStream): void {
  (stream as { _handle?: { setBlocking?: (blocking: boolean) => number } })._handle?.setBlocking?.(
    false,
  );
}

/** A SonicBoom (pino.destination()): its fd is public in use, its write state is not. */
interface SonicBoomState {
  fd: number;
  _writing?: unknown;
  once(event: 'write', listener: () => void): void;
}

/** Run `swap` between two writes of a SonicBoom destination, never under one in flight. */
export function betweenWrites(destination: object, swap: (dest: { fd: number }) => void): void {
  const dest = destination as SonicBoomState;
  if (dest._writing === true) dest.once('write', () => swap(dest));
  else swap(dest);
}
