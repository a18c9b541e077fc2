import { defaultAppName } from '../../config/app-spec.js';
import { loadConfig } from '../../config/load.js';
import type { Config } from '../../config/registry.js';
import type { Logger } from '../../log/logger.js';
import { preparedLogFiles } from '../host/log-files.js';
import type { DataPathMode } from '../modes/mode.js';
import { loadTls } from '../sockets/tls.js';
import { mergeReloadedConfig, type TlsReload } from './reload-config.js';

/**
 * HUP: the config read again as at start (file, env, command line); null when it is invalid.
 * `startCwd`: where tsgun was started, which a relative config path is relative to (the master
 * runs in --chdir's directory by now).
 */
export async function readReloadedConfig(
  argv: readonly string[],
  startCwd: string,
  logger: Logger,
): Promise<Config | null> {
  try {
    const loaded = await loadConfig(argv, process.env, startCwd);
    return loaded.kind === 'run' ? loaded.resolved.config : null;
  } catch (err) {
    logger.error(
      { err: (err as Error).message },
      'reload: config is invalid, keeping the current one',
    );
    return null;
  }
}

/**
 * HUP, once the config is read again: the files it names are tried before anything changes (a new
 * certificate only when it makes a valid context, a new access log only when it opens), then the
 * merge of reload-config.ts decides the config the master runs with; its notices are logged.
 */
export function applyReloadedConfig(
  running: Config,
  next: Config,
  io: {
    mode: DataPathMode;
    logger: Logger;
    logs: Parameters<typeof preparedLogFiles>[1];
  },
): Config {
  // --name as at start (a HUP cannot change it): the default is the app's name, never null.
  next = { ...next, name: next.name ?? defaultAppName(next.app) };
  // Certificate rotation: new workers get the new files, but only if they make a valid context.
  let tls: TlsReload;
  try {
    tls = { ok: true, tls: loadTls(next) };
  } catch (err) {
    tls = { ok: false, error: (err as Error).message };
  }
  if (tls.ok) io.mode.setTls(tls.tls);
  // A new --access-logfile the workers could not open would stop the reload: keep the old one.
  if (!preparedLogFiles({ errorLogfile: '-', accessLogfile: next.accessLogfile }, io.logs))
    next = { ...next, accessLogfile: running.accessLogfile };
  const { config, notices } = mergeReloadedConfig(running, next, tls);
  for (const n of notices) io.logger[n.level](n.fields, n.message);
  return config;
}
