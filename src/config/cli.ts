import { Command, CommanderError, Option } from 'commander';
import { ConfigError, ErrorCode } from '../errors.js';
import { VERSION } from '../version.js';
import {
  REGISTRY,
  SECTIONS,
  SETTING_NAMES,
  type SettingDef,
  type SettingName,
} from './registry.js';

export type CliValues = Partial<Record<SettingName, unknown>>;

function defaultText(def: SettingDef<unknown>): string | undefined {
  if (def.defaultDoc) return def.defaultDoc;
  if (typeof def.default === 'function' || def.default === null || def.arg === undefined)
    return undefined;
  const shown = def.format ? def.format(def.default) : def.default;
  return Array.isArray(shown) ? (shown.length ? shown.join(', ') : undefined) : String(shown);
}

/** The words tsgun takes instead of APP (src/cli/commands.ts), each with its own --help. */
const COMMANDS_HELP = `
Commands (each has its own --help, e.g. tsgun status --help):
  tsgun status -p FILE [--json]        A running master's workers (index, pid, state, requests, RSS, age)
  tsgun reload -p FILE                 Rolling reload (HUP), waits until the new workers are ready
  tsgun scale N -p FILE                Set the worker count (TTIN/TTOU to a number)
  tsgun stop -p FILE [--quick]         Graceful stop (TERM), or quick (QUIT); waits for the exit
                                       (-p FILE: the master's --pid; or --control-socket PATH)
  tsgun stats [ADDR] [--json]          The workers table of a running tsgun (ADDR: its --stats address)
  tsgun top [ADDR]                     The same table, live, in a terminal
  tsgun help [COMMAND]                 This help, or a command's help
  tsgun version                        Print the version

The manual: docs/index.md in tsgun's package or repository (node_modules/tsgun/docs/index.md)`;

/** The commander program, generated from the registry so --help can never drift from it. */
export function buildProgram(): Command {
  const program = new Command('tsgun')
    .usage('[options] APP')
    .description('Run a Node.js HTTP app under a pre-forking master, Gunicorn style.')
    .argument('[APP]', REGISTRY.app.help)
    .version(VERSION, '-v, --version', 'Print the version and exit.')
    .helpOption('-h, --help', 'Show this help and exit.')
    .allowExcessArguments(false)
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeErr: () => {}, writeOut: (s) => process.stdout.write(s) })
    .addHelpText('after', COMMANDS_HELP);
  for (const section of SECTIONS) {
    for (const name of SETTING_NAMES) {
      const def = REGISTRY[name] as SettingDef<unknown>;
      if (def.section !== section || def.flags.length === 0) continue;
      const flags = def.flags.join(', ') + (def.arg ? ` <${def.arg}>` : '');
      const shown = defaultText(def);
      const option = new Option(flags, def.help + (shown ? ` [default: ${shown}]` : '')).helpGroup(
        `${section}:`,
      );
      // commander derives the attribute from the first long flag: it must be the setting name.
      if (option.attributeName() !== name)
        throw new Error(`flag ${def.flags.join(', ')} does not name ${name}`);
      if (def.repeatable) {
        option.argParser((value: string, previous: unknown) => [
          ...(Array.isArray(previous) ? previous : []),
          value,
        ]);
      }
      program.addOption(option);
    }
  }
  return program;
}

export type ParsedArgs =
  | { readonly kind: 'run'; readonly values: CliValues }
  | { readonly kind: 'exit'; readonly code: number };

/** A commander error as one line (with its did-you-mean), worded by `say`, and its error code. */
export function commanderProblem(
  err: CommanderError,
  say: (message: string) => string,
): ConfigError {
  const message = err.message
    .replace(/^error: /, '')
    .replace(/\n\(Did you mean (.*)\?\)/, ' (did you mean $1?)')
    .split('\n')
    .join(' ');
  const code =
    err.code === 'commander.unknownOption'
      ? ErrorCode.CONFIG_UNKNOWN_KEY
      : ErrorCode.CONFIG_INVALID;
  return new ConfigError([say(message)], code);
}

/**
 * Parse argv (without node and script) into raw values keyed by setting name. Values stay strings;
 * the resolver parses them like every other layer. Commander's errors become one-line ConfigErrors.
 */
export function parseArgs(argv: readonly string[], origin = 'the command line'): ParsedArgs {
  const program = buildProgram();
  try {
    program.parse([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return { kind: 'exit', code: 0 };
      throw commanderProblem(err, (m) => `${m} (in ${origin})`);
    }
    throw err;
  }
  const values: CliValues = { ...program.opts() };
  const app = program.args[0];
  if (app !== undefined) values.app = app;
  return { kind: 'run', values };
}
