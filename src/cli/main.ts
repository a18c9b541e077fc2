import { findModule } from '../config/app-spec.js';
import { loadConfig } from '../config/load.js';
import { describeConfig } from '../config/resolve.js';
import { ConfigError, ExitCode, TsgunError } from '../errors.js';
import { MASTER_OWNED_ENV } from '../ipc/protocol.js';
import { checkApp } from '../master/check/check-app.js';
import { startMaster } from '../master/start.js';
import { runSubcommand } from './commands.js';
import { pm2Word } from './pm2-words.js';
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

/** Whether `tsgun WORD` names an app file rather than a command word. */
function isAppFile(word: string): boolean {
  try {
    findModule(word);
    return true;
  } catch {
    return false;
  }
}

export async function main(given: readonly string[]): Promise<number> {
  // PM2's words: `tsgun start app.js` runs app.js; `tsgun logs` and the like name tsgun's way.
  const argv = pm2Word(given, isAppFile)?.argv ?? given;
  // help, version, and the clients of a running master; anything else is `tsgun [options] APP`.
  const subcommand = runSubcommand(argv);
  if (subcommand) return subcommand;
  // The workers' variables are the master's to set (a spare forked earlier got none of them).
  for (const name of MASTER_OWNED_ENV) delete process.env[name];
  const foreign = foreignSpelling(argv);
  if (foreign) throw foreign;
  const loaded = await loadConfig(argv, process.env);
  if (loaded.kind === 'exit') return loaded.code;
  const { config, warnings } = loaded.resolved;
  // Before a master exists there is no log: plain lines, like the errors.
  const warnPlain = () => {
    for (const w of warnings) process.stderr.write(`tsgun: warning: ${w}\n`);
  };
  if (config.printConfig) {
    warnPlain();
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
  if (config.checkConfig) {
    warnPlain();
    return checkApp(config);
  }

  return startMaster(
    config,
    argv,
    startCwd,
    (logger) => {
      announceConfigFile(logger, loaded);
      for (const w of warnings) logger.warn(w);
    },
    loaded.resolved.sources.bind,
  );
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => process.exit(fail(err)),
);
