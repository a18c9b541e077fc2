/**
 * The start awaits the operator's code twice before anything is bound: the config file's import
 * (top-level await, an exported async function) and the onStarting hook. A promise that nothing
 * can resolve any more lets the event loop empty, and Node then exits 0 with nothing said; one
 * that waits on something that never comes holds the start forever. Either way the start must
 * end with one line naming what did not settle, and exit 2 (--startup-timeout).
 */

/** The longest delay setTimeout takes (about 24.8 days). */
const MAX_DELAY_MS = 2 ** 31 - 1;

/** Why a step did not settle: its deadline passed, or nothing is left that could settle it. */
export type Stall = 'deadline' | 'idle';

/** The words after "X did not settle", the same for every step. */
export function stallReason(why: Stall, seconds: number): string {
  return why === 'deadline'
    ? `within --startup-timeout (${seconds} s)`
    : 'and nothing is left that could settle it (a promise that is never resolved)';
}

/**
 * `promise`, or the error `stalled` makes once `seconds` have passed or the event loop has
 * emptied ('beforeExit': no timer, socket or child is left that could resolve it).
 */
export function settleWithin<T>(
  promise: Promise<T>,
  seconds: number,
  stalled: (why: Stall) => Error,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const idle = () => {
      done();
      reject(stalled('idle'));
    };
    // Unreferenced: the deadline alone must not keep the loop from emptying. (A delay past
    // setTimeout's 32-bit limit would fire at once: such a deadline is no deadline.)
    const timer = setTimeout(
      () => {
        done();
        reject(stalled('deadline'));
      },
      Math.min(seconds * 1000, MAX_DELAY_MS),
    ).unref();
    const done = () => {
      clearTimeout(timer);
      process.off('beforeExit', idle);
    };
    process.on('beforeExit', idle);
    promise.then(
      (value) => {
        done();
        resolve(value);
      },
      (err: unknown) => {
        done();
        reject(err);
      },
    );
  });
}
