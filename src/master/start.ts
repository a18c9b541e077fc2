import { formatBindAddress } from '../config/address.js';
import { defaultAppName } from '../config/app-spec.js';
import { bindsOnDemand, DEFAULT_APP_ADDRESS, describeWanted } from '../config/on-demand.js';
import type { Config } from '../config/registry.js';
import type { Source } from '../config/resolve.js';
import { type Stall, settleWithin, stallReason } from '../config/settle.js';
import { ErrorCode, type ExitCodeValue, TsgunError } from '../errors.js';
import type { ServerFacade } from '../hooks.js';
import { createLogger, type Logger } from '../log/logger.js';
import { setProcessTitle } from '../log/proc-title.js';
import { checkMasterPlatform, checkServingPlatform } from '../platform/checks.js';
import { serverFd } from '../platform/server-handle.js';
import { VERSION } from '../version.js';
import { Arbiter } from './arbiter.js';
import { ControlSocket, controlPath } from './control/control-socket.js';
import { watchLauncher } from './host/launcher.js';
import { prepareLogFiles } from './host/log-files.js';
import { removePidfile, writePidfile } from './host/pidfile.js';
import type { Credentials } from './host/user.js';
import { resolveCredentials } from './host/user.js';
import {
  findInherited,
  INHERITED_ENV,
  type Inherited,
  inheritedStatsFd,
} from './sockets/inherited.js';
import { OnDemandBind } from './sockets/on-demand.js';
import {
  adoptInherited,
  type BoundSocket,
  bindAll,
  chownUnixSockets,
  readSomaxconn,
  socketUrl,
} from './sockets/sockets.js';
import { loadTls } from './sockets/tls.js';
import { EventRecorder } from './stats/event-recorder.js';

/**
 * Gunicorn's `Arbiter.start`: everything between a resolved config and a running master.
 * Credentials and the log files (created for the workers' user before the first line), the log,
 * the onStarting hook, TLS, the stats server (before any bind: its address in use fails first),
 * the listening sockets (inherited or bound), the pidfile (after the sockets, so a failed bind
 * leaves none), then the arbiter's loop until it stops. Resolves with the master's exit code.
 */
export async function startMaster(
  given: Config,
  argv: readonly string[],
  startCwd: string,
  /** After the first log line: what the caller has to say (the config file in use). */
  announce: (logger: Logger) => void = () => {},
  /** Where --bind came from: only its default (and no $PORT) lets the app's listen() choose. */
  bindSource: Source = 'cli',
): Promise<ExitCodeValue> {
  // --name, settled once here: workers and the router get it in their config.
  const config: Config = { ...given, name: given.name ?? defaultAppName(given.app) };
  setProcessTitle('master', config.name);
  // Before the first log line: the log files exist, belong to the workers' user, or fail here.
  const credentials = resolveCredentials(config.user, config.group);
  prepareLogFiles(config, credentials);
  // --stats: the timeline of /events and /dashboard, fed from the master's own log records.
  const events = config.stats ? new EventRecorder() : null;
  const log = createLogger({
    level: config.logLevel,
    file: config.errorLogfile,
    role: 'master',
    name: config.name,
    format: config.logFormat,
    ...(events && { tee: (line: string) => events.line(line) }),
  });
  const { logger } = log;
  logger.info({ version: VERSION }, `starting tsgun ${VERSION}`);
  announce(logger);
  const somaxconn = checkBacklog(config, logger);
  await runOnStarting(config, logger);
  const tls = loadTls(config);
  if (config.umask !== null) process.umask(config.umask);
  let arbiter: Arbiter | null = null;
  const stats = await serveStats(config, () => arbiter, events);
  const unbound = { bindSource, portEnv: process.env['PORT'], router: config.router };
  const { sockets, inherited } = await openSockets(
    config,
    credentials,
    logger,
    bindsOnDemand({ ...unbound, inherited: null }),
  );
  const onDemand = bindsOnDemand({ ...unbound, inherited: inherited?.source ?? null });
  // After the sockets, so a failed bind leaves no pidfile behind.
  const pidfile = config.pid && inherited?.upgradeFrom ? `${config.pid}.2` : config.pid;
  if (pidfile) writePidfile(pidfile);
  const control = await openControl(config, inherited?.upgradeFrom != null, () => arbiter, logger);
  for (const s of sockets) {
    logger.info(
      { address: socketUrl(s, tls !== null), bind: formatBindAddress(s.address) },
      `listening at: ${socketUrl(s, tls !== null)} (${process.pid})`,
    );
  }
  if (onDemand && sockets.length === 0)
    logger.info(
      { default: describeWanted(DEFAULT_APP_ADDRESS) },
      `no bind configured: the master binds the address the app's first listen() asks for (${describeWanted(DEFAULT_APP_ADDRESS)} for an exported app or a listen() with no port)`,
    );
  arbiter = new Arbiter({
    config,
    argv,
    log,
    sockets,
    credentials,
    startCwd,
    upgradeFrom: inherited?.upgradeFrom ?? null,
    pidfile,
    ownsSocketFiles: inherited === null,
    statsFd: () => stats?.handOff() ?? null,
    tls,
    maxBacklog: somaxconn === null ? config.backlog : Math.min(config.backlog, somaxconn),
    onPromoted: () => control?.promote(controlPath(config)!),
    onDemand: onDemand ? new OnDemandBind(sockets, logger, tls !== null) : null,
  });
  if (config.stats)
    logger.info(
      { stats: formatBindAddress(config.stats) },
      `stats at: ${formatBindAddress(config.stats)}`,
    );
  // A re-executed master (USR2) has the old master for a parent, which leaves by design.
  const unwatch = inherited?.upgradeFrom
    ? () => {}
    : watchLauncher(process.env, logger, () => process.kill(process.pid, 'SIGTERM'));
  const result = await arbiter.run();
  unwatch();
  stats?.close();
  control?.close();
  if (result.error) process.stderr.write(`tsgun: error: ${result.error}\n`);
  return result.exitCode;
}

/** The kernel caps --backlog at net.core.somaxconn: say so. Returns somaxconn (null: unknown). */
function checkBacklog(config: Config, logger: Logger): number | null {
  const somaxconn = readSomaxconn();
  if (somaxconn !== null && config.backlog > somaxconn) {
    logger.warn(
      { backlog: config.backlog, somaxconn },
      `--backlog ${config.backlog} exceeds net.core.somaxconn ${somaxconn}: the kernel uses ${somaxconn} (raise it with sysctl -w net.core.somaxconn=${config.backlog})`,
    );
  }
  return somaxconn;
}

/**
 * The onStarting hook, awaited before anything is bound; a failure stops the start, and so does a
 * hook that has not settled within --startup-timeout or that nothing is left to settle.
 */
async function runOnStarting(config: Config, logger: Logger): Promise<void> {
  if (!config.onStarting) return;
  const seconds = config.startupTimeout;
  const stalled = (why: Stall) =>
    new TsgunError(ErrorCode.HOOK, `onStarting hook did not settle ${stallReason(why, seconds)}`);
  try {
    // Before the arbiter exists: the same facade, with no workers yet.
    const server: ServerFacade = { pid: process.pid, config, log: logger, workers: () => [] };
    const hook = config.onStarting as (server: ServerFacade) => unknown;
    await settleWithin(
      Promise.resolve().then(() => hook(server)),
      seconds,
      stalled,
    );
  } catch (err) {
    if (err instanceof TsgunError) throw err;
    throw new TsgunError(
      ErrorCode.HOOK,
      `onStarting hook failed: ${(err as Error)?.message ?? String(err)}`,
    );
  }
}

/** The listening sockets: inherited (USR2 upgrade, systemd) when there are any, else bound. */
async function openSockets(
  config: Config,
  credentials: Credentials | null,
  logger: Logger,
  /** No bind configured: nothing is bound now unless sockets are handed over. */
  onDemand: boolean,
): Promise<{ sockets: BoundSocket[]; inherited: Inherited | null }> {
  // What binding relies on, before anything is bound (refused: TSGUN_ERR_PLATFORM), and what
  // serving relies on, once for every child to come (they run the same Node).
  checkMasterPlatform(logger);
  await checkServingPlatform(logger);
  const inherited = findInherited(process.env, process.pid);
  for (const name of INHERITED_ENV) delete process.env[name];
  let sockets: BoundSocket[];
  if (!inherited && onDemand) {
    sockets = [];
  } else if (inherited) {
    // A USR2 upgrade of a master that bound on demand: its sockets are named by what they are.
    const named = onDemand && inherited.source === 'TSGUN_FD' ? [] : config.bind;
    sockets = adoptInherited(inherited.fds, named, inherited.source, named.length === 0);
    logger.info(
      { source: inherited.source, fds: inherited.fds },
      `using ${sockets.length} inherited socket(s) from ${inherited.source}; --bind only names them`,
    );
  } else {
    sockets = await bindAll(config.bind, logger, undefined, credentials ? [credentials.uid] : []);
    chownUnixSockets(sockets, credentials);
  }
  return { sockets, inherited };
}

/**
 * --stats: the stats and /readyz server, reading the arbiter once there is one (503 before). After
 * a USR2 the new master serves the same socket (passed as an fd, like the listeners): the old
 * one then leaves it open at exit, since closing a unix socket it bound would remove the file
 * the new master answers on.
 */
async function serveStats(
  config: Config,
  arbiter: () => Arbiter | null,
  events: EventRecorder | null,
): Promise<{ close(): void; handOff(): number | null } | null> {
  if (!config.stats) return null;
  // Loaded only with --stats: a master without it starts without the HTTP server and renderers.
  const [{ statsDocument }, { startStatsServer }] = await Promise.all([
    import('./stats/stats.js'),
    import('./stats/stats-server.js'),
  ]);
  const server = await startStatsServer(
    config.stats,
    {
      document: () => {
        const a = arbiter();
        return a ? statsDocument(a.snapshot()) : null;
      },
      ready: () => arbiter()?.ready() ?? false,
      events,
    },
    inheritedStatsFd(process.env),
    config.headerTimeout,
  );
  let handedOff = false;
  return {
    handOff: () => {
      const fd = serverFd(server);
      if (fd === null) return null;
      handedOff = true;
      return fd;
    },
    close: () => {
      if (!handedOff) server.close();
    },
  };
}

/**
 * The control socket, after the pidfile (which leads to it); a failure to create it stops the
 * start, and takes the pidfile just written with it.
 */
async function openControl(
  config: Config,
  upgrading: boolean,
  arbiter: () => Arbiter | null,
  logger: Logger,
): Promise<ControlSocket | null> {
  const path = controlPath(config);
  if (!path) return null;
  try {
    const control = await ControlSocket.open(
      path,
      upgrading,
      () => arbiter()?.operator ?? null,
      logger,
    );
    logger.info({ control: control.path }, `control socket at: ${control.path}`);
    return control;
  } catch (err) {
    if (config.pid) removePidfile(upgrading ? `${config.pid}.2` : config.pid);
    throw err;
  }
}
