import { findModule } from '../config/app-spec.js';
import { pm2Workers } from '../config/file-hints.js';
import type { LoadResult } from '../config/load.js';
import type { Config } from '../config/registry.js';
import { checkTypeScript } from '../config/typescript.js';
import { ConfigError, ErrorCode } from '../errors.js';
import type { Logger } from '../log/logger.js';

/**
 * Checks that run before anything is bound or forked: a mistake on the command line must not
 * leave a port bound and a worker started before it is reported.
 */

/** The value after a flag, whether written `-i 4`, `-i=4` or `--instances=4`. */
function flagValue(argv: readonly string[], i: number): string | undefined {
  const eq = argv[i]!.indexOf('=');
  return eq >= 0 ? argv[i]!.slice(eq + 1) : argv[i + 1];
}

const flag = (arg: string) => arg.split('=')[0]!;

/**
 * PM2's and Gunicorn's spellings that tsgun spells differently, as one error with the tsgun
 * spelling: `-i 4` is `-w 4`, `-i max` / `-w max` is `-w auto`, `--watch` is `--reload`,
 * `--port 3000` is `-b :3000`.
 */
export function foreignSpelling(argv: readonly string[]): ConfigError | null {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') break;
    const name = flag(arg);
    if (name === '-i' || name === '--instances') {
      const n = flagValue(argv, i);
      const w = pm2Workers(n);
      return new ConfigError(
        [`unknown option '${name}': tsgun spells PM2's ${name} ${n ?? 'N'} as -w ${w}`],
        ErrorCode.CONFIG_UNKNOWN_KEY,
      );
    }
    if (name === '--port' || name === '--host') {
      const v = flagValue(argv, i);
      const b = name === '--port' ? `:${v ?? 'PORT'}` : `${v ?? 'HOST'}:PORT`;
      return new ConfigError(
        [`unknown option '${name}': tsgun binds with -b (--bind): use -b ${b}`],
        ErrorCode.CONFIG_UNKNOWN_KEY,
      );
    }
    if (name === '--watch') {
      return new ConfigError(
        [`unknown option '--watch': use --reload (restart the workers when a source file changes)`],
        ErrorCode.CONFIG_UNKNOWN_KEY,
      );
    }
    if ((name === '-w' || name === '--workers') && flagValue(argv, i) === 'max') {
      return new ConfigError([
        `--workers: expected an integer or auto, got "max": use -w auto (one worker per CPU in the CPU budget, as PM2's max)`,
      ]);
    }
  }
  return null;
}

/**
 * The app module must exist before the master binds: `tsgun hlep` must not bind :8000 first. A
 * TypeScript app on a Node that cannot strip types is refused here, not by every worker in turn.
 */
export function checkAppExists(config: Config): void {
  if (config.app) checkTypeScript('app', findModule(config.app.module));
}

/** A config file picked up from the current directory is named, so its settings never surprise. */
export function announceConfigFile(logger: Logger, loaded: LoadResult): void {
  if (loaded.kind !== 'run' || !loaded.configFile) return;
  const { path, discovered } = loaded.configFile;
  logger.info(
    { configFile: path, discovered },
    discovered
      ? `using config file ${path} (found in the current directory)`
      : `using config file ${path}`,
  );
}
