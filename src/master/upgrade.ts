import { type ChildProcess, spawn } from 'node:child_process';
import { UPGRADE_ENV } from '../ipc/protocol.js';
import type { BoundSocket } from './sockets.js';

/** The first fd a re-executed master inherits its sockets on (after stdin, stdout, stderr). */
const FIRST_INHERITED_FD = 3;

/**
 * USR2, Gunicorn's binary upgrade: start a new master from the same command line (new code, new
 * node_modules) that inherits the listening sockets instead of binding them. Both masters serve
 * side by side until the operator stops one of them.
 */
export function reexecMaster(opts: {
  sockets: readonly BoundSocket[];
  argv: readonly string[];
  cwd: string;
}): ChildProcess {
  const fds = opts.sockets.map((s) => s.handle.fd);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    [UPGRADE_ENV.fds]: fds.map((_, i) => FIRST_INHERITED_FD + i).join(','),
    [UPGRADE_ENV.parent]: String(process.pid),
  };
  return spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...opts.argv], {
    cwd: opts.cwd,
    env,
    stdio: ['inherit', 'inherit', 'inherit', ...fds],
  });
}
