import { once } from 'node:events';
import { formatBindAddress } from '../config/address.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/registry.js';
import { describeConfig } from '../config/resolve.js';
import { ConfigError, ErrorCode, ExitCode, TsgunError } from '../errors.js';
import type { ServerFacade } from '../hooks.js';
import { receiveFromWorker } from '../ipc/protocol.js';
import { createLogger } from '../log/logger.js';
import { Arbiter } from '../master/arbiter.js';
import { findInherited, INHERITED_ENV } from '../master/inherited.js';
import { writePidfile } from '../master/pidfile.js';
import {
  adoptInherited,
  type BoundSocket,
  bindAll,
  readSomaxconn,
  socketUrl,
} from '../master/sockets.js';
import { forkWorker } from '../master/spawn.js';
import { statsDocument } from '../master/stats.js';
import { startStatsServer } from '../master/stats-server.js';
import { loadTls } from '../master/tls.js';
import { resolveCredentials } from '../master/user.js';
import { VERSION } from '../version.js';
import { runSubcommand } from './commands.js';
import { announceConfigFile, checkAppExists, foreignSpelling } from './preflight.js';

/** Fatal errors end with one plain line per problem on stderr, whatever the log format. */
function fail(err: unknown): number {
  if (err instanceof ConfigError) {
    for (const p of err.problems) process.stderr.write(`tsgun: error: ${p} [${err.code}]\n`);
    return err.exitCode;
  }
  if (err instanceof TsgunError) {
    process.stderr.write(`tsgun: error: ${err.message} [${err.code}]\n`);
    return err.exitCode;
  }
  process.stderr.write(`tsgun: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
  return ExitCode.INTERNAL;
}

/** --check-config: the settings resolved; now load the app in a throwaway worker. */
async function checkApp(config: Config): Promise<number> {
  const forked = forkWorker({
    id: 0,
    config: { ...config, logLevel: 'critical' },
    sockets: [],
    check: true,
  });
  if (!forked.ok) {
    const err = await forked.error;
    process.stderr.write(
      `tsgun: error: cannot fork the app check: ${err.message} [${ErrorCode.FORK}]\n`,
    );
    return ExitCode.WORKER_BOOT;
  }
  const { child } = forked;
  let problem: string | null = null;
  child.on('message', (value: unknown) => {
    const r = receiveFromWorker(value);
    if (r.kind === 'ours' && r.message.type === 'boot-error')
      problem = `${r.message.message} [${r.message.code}]`;
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code === 0) {
    process.stdout.write('tsgun: config OK\n');
    return ExitCode.OK;
  }
  process.stderr.write(`tsgun: error: ${problem ?? `app check exited with code ${code}`}\n`);
  return code === ExitCode.APP_LOAD ? ExitCode.APP_LOAD : ExitCode.WORKER_BOOT;
}

export async function main(argv: readonly string[]): Promise<number> {
  // help, version, and the clients of a running master; anything else is `tsgun [options] APP`.
  const subcommand = runSubcommand(argv);
  if (subcommand) return subcommand;
  const foreign = foreignSpelling(argv);
  if (foreign) throw foreign;
  const loaded = await loadConfig(argv, process.env);
  if (loaded.kind === 'exit') return loaded.code;
  const { config } = loaded.resolved;
  if (config.printConfig) {
    process.stdout.write(`${JSON.stringify(describeConfig(loaded.resolved), null, 2)}\n`);
    return ExitCode.OK;
  }
  const startCwd = process.cwd();
  if (config.chdir) {
    try {
      process.chdir(config.chdir);
    } catch {
      throw new ConfigError([`--chdir: no such directory: ${config.chdir}`]);
    }
  }
  checkAppExists(config);
  if (config.checkConfig) return checkApp(config);

  const log = createLogger({
    level: config.logLevel,
    file: config.errorLogfile,
    role: 'master',
    format: config.logFormat,
  });
  const { logger } = log;
  logger.info({ version: VERSION }, `starting tsgun ${VERSION}`);
  announceConfigFile(logger, loaded);
  const somaxconn = readSomaxconn();
  if (somaxconn !== null && config.backlog > somaxconn) {
    logger.warn(
      { backlog: config.backlog, somaxconn },
      `--backlog ${config.backlog} exceeds net.core.somaxconn ${somaxconn}: the kernel uses ${somaxconn} (raise it with sysctl -w net.core.somaxconn=${config.backlog})`,
    );
  }
  if (config.onStarting) {
    try {
      // Before the arbiter exists: the same facade, with no workers yet.
      const server: ServerFacade = { pid: process.pid, config, log: logger, workers: () => [] };
      await (config.onStarting as (server: ServerFacade) => unknown)(server);
    } catch (err) {
      throw new TsgunError(
        ErrorCode.HOOK,
        `onStarting hook failed: ${(err as Error)?.message ?? String(err)}`,
      );
    }
  }
  const credentials = resolveCredentials(config.user, config.group);
  const tls = loadTls(config);
  if (config.umask !== null) process.umask(config.umask);
  const inherited = findInherited(process.env, process.pid);
  for (const name of INHERITED_ENV) delete process.env[name];
  let sockets: BoundSocket[];
  if (inherited) {
    sockets = adoptInherited(inherited.fds, config.bind, inherited.source);
    logger.info(
      { source: inherited.source, fds: inherited.fds },
      `using ${sockets.length} inherited socket(s) from ${inherited.source}; --bind only names them`,
    );
  } else {
    sockets = await bindAll(config.bind, logger);
  }
  // After the sockets, so a failed bind leaves no pidfile behind.
  const pidfile = config.pid && inherited?.upgradeFrom ? `${config.pid}.2` : config.pid;
  if (pidfile) writePidfile(pidfile);
  for (const s of sockets) {
    logger.info(
      { address: socketUrl(s, tls !== null), bind: formatBindAddress(s.address) },
      `listening at: ${socketUrl(s, tls !== null)} (${process.pid})`,
    );
  }
  const arbiter = new Arbiter({
    config,
    argv,
    log,
    sockets,
    credentials,
    startCwd,
    upgradeFrom: inherited?.upgradeFrom ?? null,
    pidfile,
    ownsSocketFiles: inherited === null,
    tls,
    maxBacklog: somaxconn === null ? config.backlog : Math.min(config.backlog, somaxconn),
  });
  const statsServer = config.stats
    ? await startStatsServer(config.stats, {
        document: () => statsDocument(arbiter.snapshot()),
        ready: () => arbiter.ready(),
      })
    : null;
  if (config.stats)
    logger.info(
      { stats: formatBindAddress(config.stats) },
      `stats at: ${formatBindAddress(config.stats)}`,
    );
  const result = await arbiter.run();
  statsServer?.close();
  if (result.error) process.stderr.write(`tsgun: error: ${result.error}\n`);
  return result.exitCode;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => process.exit(fail(err)),
);
