import { openFailure } from './checked-open.js';

/**
 * Exit codes are a contract with whoever runs tsgun (systemd, a container runtime, a script):
 * they tell a bad setting apart from an app that cannot load. Gunicorn uses 3 and 4 the same way.
 */
export const ExitCode = {
  OK: 0,
  /** Unexpected internal failure (a bug in tsgun). */
  INTERNAL: 1,
  /** A setting, flag, environment value or address is invalid, or a bind failed. */
  CONFIG: 2,
  /** A worker failed while booting for a reason other than the app (e.g. cannot listen). */
  WORKER_BOOT: 3,
  /** The app module could not be loaded or did not export something servable. */
  APP_LOAD: 4,
  /** A control command (`tsgun status|reload|scale|stop`) found no tsgun master to answer it. */
  NO_MASTER: 5,
  /** This Node release lacks a behaviour tsgun relies on and has no public fallback for. */
  PLATFORM: 6,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** The master's exit for a worker that could not boot: its own when it names the cause. */
export function bootExitCode(code: number | null): ExitCodeValue {
  return code === ExitCode.APP_LOAD || code === ExitCode.PLATFORM ? code : ExitCode.WORKER_BOOT;
}

/** Every error tsgun reports on purpose carries one of these codes (listed in docs/errors.md). */
export const ErrorCode = {
  CONFIG_INVALID: 'TSGUN_ERR_CONFIG_INVALID',
  CONFIG_UNKNOWN_KEY: 'TSGUN_ERR_CONFIG_UNKNOWN_KEY',
  UNKNOWN_COMMAND: 'TSGUN_ERR_UNKNOWN_COMMAND',
  BIND_FAILED: 'TSGUN_ERR_BIND',
  PIDFILE: 'TSGUN_ERR_PIDFILE',
  APP_NOT_FOUND: 'TSGUN_ERR_APP_NOT_FOUND',
  APP_LOAD: 'TSGUN_ERR_APP_LOAD',
  APP_EXPORT_MISSING: 'TSGUN_ERR_APP_EXPORT_MISSING',
  APP_EXPORT_TYPE: 'TSGUN_ERR_APP_EXPORT_TYPE',
  APP_HTTP2: 'TSGUN_ERR_APP_HTTP2',
  WORKER_BOOT: 'TSGUN_ERR_WORKER_BOOT',
  WORKER_LISTEN: 'TSGUN_ERR_WORKER_LISTEN',
  WORKER_NOT_READY: 'TSGUN_ERR_WORKER_NOT_READY',
  FORK: 'TSGUN_ERR_FORK',
  USER: 'TSGUN_ERR_USER',
  INHERITED_FD: 'TSGUN_ERR_INHERITED_FD',
  HOOK: 'TSGUN_ERR_HOOK',
  TLS: 'TSGUN_ERR_TLS',
  JOBS: 'TSGUN_ERR_JOBS',
  LOGFILE: 'TSGUN_ERR_LOGFILE',
  APP_LISTEN: 'TSGUN_ERR_APP_LISTEN',
  APP_NO_LISTEN: 'TSGUN_ERR_APP_NO_LISTEN',
  TYPESCRIPT: 'TSGUN_ERR_TYPESCRIPT',
  NO_MASTER: 'TSGUN_ERR_NO_MASTER',
  CONTROL_SOCKET: 'TSGUN_ERR_CONTROL_SOCKET',
  CONTROL_TIMEOUT: 'TSGUN_ERR_CONTROL_TIMEOUT',
  PLATFORM: 'TSGUN_ERR_PLATFORM',
} as const;
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

export const ERROR_DOCS: Record<ErrorCodeValue, { exit: ExitCodeValue; meaning: string }> = {
  TSGUN_ERR_CONFIG_INVALID: {
    exit: ExitCode.CONFIG,
    meaning:
      'a setting has an invalid value, or the config file did not settle within --startup-timeout',
  },
  TSGUN_ERR_CONFIG_UNKNOWN_KEY: {
    exit: ExitCode.CONFIG,
    meaning:
      'an unknown setting or flag (with a did-you-mean hint); an unknown TSGUN_* variable only warns',
  },
  TSGUN_ERR_UNKNOWN_COMMAND: {
    exit: ExitCode.CONFIG,
    meaning:
      "a PM2 command word tsgun does its own way (logs, list, restart, monit, delete...): the answer names tsgun's",
  },
  TSGUN_ERR_BIND: {
    exit: ExitCode.CONFIG,
    meaning: 'the master could not bind an address (in use, not available, permission)',
  },
  TSGUN_ERR_PIDFILE: {
    exit: ExitCode.CONFIG,
    meaning: 'the pidfile names a running process or cannot be written',
  },
  TSGUN_ERR_APP_NOT_FOUND: {
    exit: ExitCode.APP_LOAD,
    meaning: 'the app module file does not exist',
  },
  TSGUN_ERR_APP_LOAD: {
    exit: ExitCode.APP_LOAD,
    meaning: 'the app module threw while loading, or its factory threw',
  },
  TSGUN_ERR_APP_EXPORT_MISSING: {
    exit: ExitCode.APP_LOAD,
    meaning: 'the named export (or default/app) is not in the module',
  },
  TSGUN_ERR_APP_EXPORT_TYPE: {
    exit: ExitCode.APP_LOAD,
    meaning:
      'the export is not a request listener, an http.Server, a Fastify or Koa app or a {fetch} object',
  },
  TSGUN_ERR_APP_HTTP2: {
    exit: ExitCode.APP_LOAD,
    meaning:
      '--http2 without --router, and an app form that cannot run on the HTTP/2 compat API (Express, Fastify)',
  },
  TSGUN_ERR_WORKER_BOOT: {
    exit: ExitCode.WORKER_BOOT,
    meaning: 'a worker died before it was accepting (not an app load error)',
  },
  TSGUN_ERR_WORKER_LISTEN: {
    exit: ExitCode.WORKER_BOOT,
    meaning: 'a worker (or the router) could not listen on an inherited socket',
  },
  TSGUN_ERR_WORKER_NOT_READY: {
    exit: ExitCode.WORKER_BOOT,
    meaning:
      'a worker was not ready within --ready-timeout (at start; during a reload it aborts the reload)',
  },
  TSGUN_ERR_FORK: {
    exit: ExitCode.WORKER_BOOT,
    meaning:
      'the master could not fork a worker (process limit, no descriptors left, node binary gone): a halt at start, retried under the crash backoff once a worker has served',
  },
  TSGUN_ERR_USER: {
    exit: ExitCode.CONFIG,
    meaning:
      '--user/--group names no such user or group, or tsgun is not root to switch to it (a worker that cannot switch refuses to run: exit 3)',
  },
  TSGUN_ERR_TLS: {
    exit: ExitCode.CONFIG,
    meaning: '--certfile/--keyfile/--ca-certs cannot be read, or do not make a valid TLS context',
  },
  TSGUN_ERR_HOOK: {
    exit: ExitCode.CONFIG,
    meaning:
      'the onStarting hook threw, or did not settle within --startup-timeout: the start is aborted',
  },
  TSGUN_ERR_JOBS: {
    exit: ExitCode.APP_LOAD,
    meaning:
      'the app exports `jobs` that are not [{ name, schedule, run }] with valid cron schedules (at most 100, names of letters, digits, spaces and `_ . : @ / -`)',
  },
  TSGUN_ERR_LOGFILE: {
    exit: ExitCode.CONFIG,
    meaning:
      '--error-logfile/--access-logfile cannot be opened (a directory, a FIFO or a device, no permission); a worker that cannot open it reports a boot error (exit 3)',
  },
  TSGUN_ERR_APP_LISTEN: {
    exit: ExitCode.APP_LOAD,
    meaning:
      'the app calls listen() in a way tsgun cannot serve: twice on one address, on a unix path, or on a port tsgun binds for its first server',
  },
  TSGUN_ERR_APP_NO_LISTEN: {
    exit: ExitCode.APP_LOAD,
    meaning:
      'the app module exports nothing, or is still loading (a top-level await), and did not call listen() within --ready-timeout',
  },
  TSGUN_ERR_INHERITED_FD: {
    exit: ExitCode.CONFIG,
    meaning: 'TSGUN_FD or LISTEN_FDS names a descriptor that is not an open socket',
  },
  TSGUN_ERR_TYPESCRIPT: {
    exit: ExitCode.APP_LOAD,
    meaning:
      'the app or config file is TypeScript (.ts, .mts, .cts) and this Node cannot strip types (before 22.18): upgrade Node, compile to JavaScript, or load a TypeScript loader (NODE_OPTIONS="--import tsx")',
  },
  TSGUN_ERR_NO_MASTER: {
    exit: ExitCode.NO_MASTER,
    meaning:
      'a control command found no tsgun master: no pidfile or one without a pid, a stale pidfile, a pid that is not a tsgun master, no control socket, or no answer on it',
  },
  TSGUN_ERR_CONTROL_SOCKET: {
    exit: ExitCode.CONFIG,
    meaning:
      "the master cannot create its control socket (path in use, not a socket, open directory), or a control command refuses one that is another user's, a symlink or not a socket",
  },
  TSGUN_ERR_CONTROL_TIMEOUT: {
    exit: ExitCode.WORKER_BOOT,
    meaning:
      '`tsgun reload` or `tsgun scale` waited --timeout and the workers were not all ready (a new worker cannot boot, say: the old ones keep serving)',
  },
  TSGUN_ERR_PLATFORM: {
    exit: ExitCode.PLATFORM,
    meaning:
      'this Node release breaks a private behaviour tsgun has no public fallback for (the line names it; docs/platform.md)',
  },
};

export class TsgunError extends Error {
  readonly code: ErrorCodeValue;
  readonly exitCode: ExitCodeValue;
  constructor(code: ErrorCodeValue, message: string) {
    super(message);
    this.name = 'TsgunError';
    this.code = code;
    this.exitCode = ERROR_DOCS[code].exit;
  }
}

export class ConfigError extends TsgunError {
  /** Every problem found, so --check-config can list them all at once. */
  readonly problems: readonly string[];
  constructor(problems: readonly string[], code: ErrorCodeValue = ErrorCode.CONFIG_INVALID) {
    super(code, problems.join('; '));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** "--access-logfile: cannot open /var/log/x: EACCES", the one line a bad log path gets. */
export function logFileError(setting: string, path: string, err: unknown): TsgunError {
  const why =
    (err as NodeJS.ErrnoException)?.code === 'ELOOP'
      ? "is a symlink (followed only when root or tsgun's user owns it, never for --user)"
      : openFailure(err);
  return new TsgunError(ErrorCode.LOGFILE, `${setting}: cannot open ${path}: ${why}`);
}
