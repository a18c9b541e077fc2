import { type ChildProcess, spawn } from 'node:child_process';
import { UPGRADE_ENV } from '../../ipc/protocol.js';
import type { Logger } from '../../log/logger.js';
import { promotePidfile } from '../host/pidfile.js';
import type { BoundSocket } from '../sockets/sockets.js';

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
  startCwd: string;
  /** --stats: its listening socket, passed on like the others (after them). */
  statsFd: () => number | null;
}): ChildProcess {
  const fds = opts.sockets.map((s) => s.handle.fd);
  const statsFd = opts.statsFd();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    [UPGRADE_ENV.fds]: fds.map((_, i) => FIRST_INHERITED_FD + i).join(','),
    [UPGRADE_ENV.parent]: String(process.pid),
  };
  if (statsFd !== null) env[UPGRADE_ENV.statsFd] = String(FIRST_INHERITED_FD + fds.length);
  return spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...opts.argv], {
    cwd: opts.startCwd,
    env,
    stdio: ['inherit', 'inherit', 'inherit', ...fds, ...(statsFd === null ? [] : [statsFd])],
  });
}

/**
 * The USR2 upgrade as seen by one master: the new master it started (while that runs), or the old
 * master it upgrades (until promoted), and the pidfile it wrote (`<pid>.2` until promoted).
 */
export class Upgrade {
  private child: ChildProcess | null = null;

  constructor(
    private from: number | null,
    public pidfile: string | null,
    private readonly logger: Logger,
    private readonly onPromoted: () => void = () => {},
  ) {}

  /** Another master serves on these sockets now (its files are not this master's to remove). */
  get shared(): boolean {
    return this.child !== null || this.from !== null;
  }

  /** USR2: start a new master, unless an upgrade is already under way either way. */
  start(
    opts: Parameters<typeof reexecMaster>[0],
    preExec: () => void,
    /** The new master exited (failed, or stopped) while this one runs. */
    ended: () => void = () => {},
  ): void {
    if (this.child) {
      this.logger.warn(
        { childPid: this.child.pid },
        'USR2 ignored: an upgraded master already runs',
      );
      return;
    }
    if (this.from !== null) {
      this.logger.warn(
        { parentPid: this.from },
        'USR2 ignored: this master is an upgrade not yet promoted',
      );
      return;
    }
    preExec();
    const child = reexecMaster(opts);
    this.child = child;
    this.logger.info(
      { childPid: child.pid },
      'USR2: started a new master with the listening sockets',
    );
    child.on('exit', (code, signal) => {
      this.child = null;
      this.logger.info({ childPid: child.pid, code, signal }, 'the upgraded master exited');
      ended();
    });
  }

  /** An upgraded master whose parent (the old master) is gone takes over the pidfile. */
  maybePromote(configuredPidfile: string | null): void {
    if (this.from === null || process.ppid === this.from) return;
    const oldMasterPid = this.from;
    this.from = null;
    if (this.pidfile && configuredPidfile) {
      promotePidfile(this.pidfile, configuredPidfile);
      this.pidfile = configuredPidfile;
    }
    this.onPromoted();
    // Logged once the pidfile names this master: whoever waits for this line may read it.
    this.logger.info({ oldMasterPid }, 'master has been promoted');
  }
}
