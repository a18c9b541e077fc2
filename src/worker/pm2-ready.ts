/**
 * PM2's `wait_ready` habit: the app says it is ready with `process.send('ready')`. Under
 * --wait-ready that counts as tsgun's `ready()`. The string is not forwarded (the master reads
 * only tsgun's own messages); a callback given to send() still runs.
 */
export function acceptPm2Ready(onReady: () => void): void {
  const send = process.send;
  if (!send) return;
  process.send = function (this: NodeJS.Process, message: unknown, ...rest: unknown[]) {
    if (message !== 'ready') return Reflect.apply(send, this, [message, ...rest]) as boolean;
    onReady();
    const callback = rest.find((r) => typeof r === 'function') as
      | ((err: Error | null) => void)
      | undefined;
    if (callback) process.nextTick(callback, null);
    return true;
  } as typeof process.send;
}
