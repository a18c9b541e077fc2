/**
 * Process titles, Gunicorn's proc_name: `ps` shows `tsgun: master [NAME]`, `tsgun: worker 2
 * [NAME]` (the worker index, TSGUN_WORKER_INDEX), `tsgun: router [NAME]`. Node writes the title
 * over the process's argv memory (libuv), so on Linux it is cut to the length of the command line
 * the process started with (a worker's: `node <path>/dist/src/worker/main.js`); libuv also sets
 * /proc/PID/comm, which keeps the first 15 characters.
 */

export type ProcessRole = 'master' | 'worker' | 'router';

export function processTitle(role: ProcessRole, name: string, index?: number): string {
  const who = role === 'worker' && index !== undefined ? `worker ${index}` : role;
  return name ? `tsgun: ${who} [${name}]` : `tsgun: ${who}`;
}

export function setProcessTitle(role: ProcessRole, name: string | null, index?: number): void {
  try {
    process.title = processTitle(role, name ?? '', index);
  } catch {
    // A platform without settable titles: ps shows node, nothing else changes.
  }
}
