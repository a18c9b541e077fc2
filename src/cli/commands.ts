import { Command, CommanderError } from 'commander';
import { buildProgram, commanderProblem } from '../config/cli.js';
import { ConfigError, ExitCode } from '../errors.js';
import { VERSION } from '../version.js';
import { CONTROL_VERBS, type ControlVerb, controlProgram, runControl } from './control-commands.js';
import { DEFAULT_STATS_ADDRESS, statsAddress, statsCommand, topCommand } from './stats-client.js';

/**
 * The words tsgun understands before APP: `help`, `version`, the control commands of a running
 * master (`status`, `reload`, `scale`, `stop`: control-commands.ts) and the clients of its --stats
 * (`stats`, `top`), each with its own --help and its own unknown-flag errors. `tsgun --help`
 * lists them all (src/config/cli.ts).
 */

const ADDR_HELP = `the master's --stats address: HOST:PORT, http://HOST:PORT or unix:PATH (default ${DEFAULT_STATS_ADDRESS})`;

function baseProgram(name: string): Command {
  return new Command(`tsgun ${name}`)
    .usage('[options]')
    .helpOption('-h, --help', 'Show this help and exit.')
    .allowExcessArguments(false)
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeErr: () => {}, writeOut: (s) => process.stdout.write(s) });
}

function clientProgram(name: 'stats' | 'top', description: string): Command {
  return baseProgram(name)
    .usage('[options] [ADDR]')
    .description(description)
    .argument('[ADDR]', ADDR_HELP);
}

export function statsProgram(): Command {
  return clientProgram('stats', 'Print the workers table of a running tsgun once.').option(
    '--json',
    'Print the stats document as JSON.',
  );
}

export function topProgram(): Command {
  return clientProgram('top', 'A live workers table, refreshed every second (q quits).');
}

const isControlVerb = (word: string | undefined): word is ControlVerb =>
  (CONTROL_VERBS as readonly (string | undefined)[]).includes(word);

/** Commander's errors as one line naming the command, like every other bad input. */
function parseWords(program: Command, args: readonly string[]): { exit: number } | null {
  try {
    program.parse([...args], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return { exit: ExitCode.OK };
      throw commanderProblem(err, (m) => `${program.name()}: ${m}`);
    }
    throw err;
  }
  return null;
}

function parse(program: Command, args: readonly string[]): { exit: number } | { address: string } {
  const exit = parseWords(program, args);
  if (exit) return exit;
  const given = program.args[0] ?? DEFAULT_STATS_ADDRESS;
  try {
    return { address: statsAddress(given) };
  } catch (err) {
    throw new ConfigError([`${program.name()}: ADDR: ${(err as Error).message}`]);
  }
}

/** A command's own program, for `tsgun help WORD` (null: not a command). */
function programOf(word: string | undefined): Command | null {
  if (word === 'stats') return statsProgram();
  if (word === 'top') return topProgram();
  return isControlVerb(word) ? controlProgram(word, baseProgram) : null;
}

/** Run a subcommand and resolve with its exit code, or null when argv is `tsgun [options] APP`. */
export function runSubcommand(argv: readonly string[]): Promise<number> | null {
  const [word, ...rest] = argv;
  if (isControlVerb(word)) {
    const program = controlProgram(word, baseProgram);
    const exit = parseWords(program, rest);
    return exit ? Promise.resolve(exit.exit) : runControl(word, program);
  }
  switch (word) {
    case 'help': {
      (programOf(rest[0]) ?? buildProgram()).outputHelp();
      return Promise.resolve(ExitCode.OK);
    }
    case 'version':
      process.stdout.write(`${VERSION}\n`);
      return Promise.resolve(ExitCode.OK);
    case 'stats': {
      const program = statsProgram();
      const parsed = parse(program, rest);
      if ('exit' in parsed) return Promise.resolve(parsed.exit);
      return statsCommand(parsed.address, { json: program.opts()['json'] === true });
    }
    case 'top': {
      const parsed = parse(topProgram(), rest);
      if ('exit' in parsed) return Promise.resolve(parsed.exit);
      if (process.stdout.isTTY !== true) {
        throw new ConfigError([
          'tsgun top: needs a terminal (stdout is not a TTY); in a script use `tsgun stats ADDR` or `tsgun stats ADDR --json`',
        ]);
      }
      return topCommand(parsed.address);
    }
    default:
      return null;
  }
}
