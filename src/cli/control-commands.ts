import { existsSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { CONFIG_FILES, loadConfig } from '../config/load.js';
import { REGISTRY } from '../config/registry.js';
import { ConfigError, ErrorCode, ExitCode, TsgunError } from '../errors.js';
import type { ControlRequest, ControlRespawn, ControlStatus } from '../ipc/control.js';
import { ask, locateMaster, type MasterAddress } from './control-client.js';

/**
 * `tsgun status|reload|scale|stop`: pm2's verbs, Gunicorn's signals, over the master's control
 * socket (src/master/control/control-socket.ts), found with -p/--pid FILE (Gunicorn's flag) or
 * --control-socket PATH (or TSGUN_PID / TSGUN_CONTROL_SOCKET).
 */

export type ControlVerb = 'status' | 'reload' | 'scale' | 'stop';
export const CONTROL_VERBS: readonly ControlVerb[] = ['status', 'reload', 'scale', 'stop'];

const DESCRIPTIONS: Record<ControlVerb, string> = {
  status: "Print a running master's workers (index, pid, state, requests, RSS, age).",
  reload:
    'Rolling reload (HUP): re-read the config, replace the workers one at a time; waits until the new ones are all ready.',
  scale:
    'Set the worker count (TTIN/TTOU to a number; a reload keeps it unless the config changes workers); waits until it is reached.',
  stop: 'Graceful stop (TERM), or quick with --quick (QUIT); waits until the master has exited.',
};

/** The command's program, with the flags every verb shares. */
export function controlProgram(verb: ControlVerb, base: (name: string) => Command): Command {
  const program = base(verb)
    .description(DESCRIPTIONS[verb])
    .option('-p, --pid <FILE>', "the master's pidfile (its --pid); the control socket is beside it")
    .option(
      '--control-socket <PATH>',
      "the master's --control-socket, when not beside the pidfile",
    );
  switch (verb) {
    case 'status':
      return program.option('--json', 'Print the status as JSON.');
    case 'scale':
      return program
        .usage('[options] N')
        .argument('<N>', 'the number of workers, as -w takes it (an integer >= 1, or auto)')
        .addOption(waitOption())
        .option('--no-wait', 'Return once the master has queued it.');
    case 'reload':
      return program.addOption(waitOption()).option('--no-wait', 'Return once queued.');
    case 'stop':
      return program
        .option('--quick', 'Quick stop (QUIT): workers exit at once, as INT/QUIT do.')
        .option('--no-wait', 'Return once the master has queued it.');
  }
}

function waitOption(): Option {
  return new Option('--timeout <SECONDS>', 'how long to wait').default('120');
}

/**
 * -p/--control-socket, else TSGUN_PID/TSGUN_CONTROL_SOCKET, else the `pid` and `controlSocket`
 * of the config file the server would read here (tsgun.config.* in the current directory):
 * where the master is.
 */
async function address(verb: ControlVerb, opts: Record<string, unknown>): Promise<MasterAddress> {
  const pick = (flag: unknown, env: string) =>
    typeof flag === 'string' && flag !== '' ? flag : process.env[env] || null;
  let pidfile = pick(opts['pid'], 'TSGUN_PID');
  let socket = pick(opts['controlSocket'], 'TSGUN_CONTROL_SOCKET');
  if (!pidfile && !socket) {
    const found = await fromConfigFile(verb);
    pidfile = found.pidfile;
    socket = found.socket;
  }
  if (!pidfile && !socket)
    throw new ConfigError([
      `tsgun ${verb}: which master? give -p/--pid FILE or --control-socket PATH (or TSGUN_PID), or run it where a tsgun.config.* file sets pid`,
    ]);
  return locateMaster({ pidfile, socket });
}

/** The master a config file in the current directory names, as the server resolves it. */
async function fromConfigFile(
  verb: ControlVerb,
): Promise<{ pidfile: string | null; socket: string | null }> {
  const file = CONFIG_FILES.find((name) => existsSync(name));
  if (!file) return { pidfile: null, socket: null };
  let loaded: Awaited<ReturnType<typeof loadConfig>>;
  try {
    loaded = await loadConfig(['-c', file], process.env);
  } catch (err) {
    const problem = err instanceof ConfigError ? err.problems.join('; ') : String(err);
    throw new ConfigError([`tsgun ${verb}: reading ${file} to find the master: ${problem}`]);
  }
  if (loaded.kind !== 'run') return { pidfile: null, socket: null };
  const { pid, controlSocket } = loaded.resolved.config;
  return { pidfile: pid || null, socket: controlSocket || null };
}

function timeoutMs(verb: ControlVerb, value: unknown): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || !/^\s*\d+(\.\d+)?\s*$/.test(String(value)))
    throw new ConfigError([
      `tsgun ${verb}: --timeout: expected a number of seconds > 0, got ${JSON.stringify(value)}`,
    ]);
  return n * 1000;
}

/** `tsgun scale N`: N as -w reads it, the error naming the value. */
function scaleTarget(given: unknown): number | 'auto' {
  try {
    return REGISTRY.workers.parse(given);
  } catch (err) {
    throw new ConfigError([`tsgun scale: N: ${(err as Error).message}`]);
  }
}

const pad = (v: string | number, n: number) => String(v).padStart(n);

function age(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600)
    return `${Math.floor(seconds / 60)}m${pad(seconds % 60, 2).replace(' ', '0')}s`;
  return `${Math.floor(seconds / 3600)}h${pad(Math.floor(seconds / 60) % 60, 2).replace(' ', '0')}m`;
}

/** "respawning in 4 s after 3 failed boot(s)": what the master does about missing workers. */
export function renderRespawn(r: ControlRespawn): string {
  const when = r.inMs > 0 ? `in ${Math.ceil(r.inMs / 1000)} s` : 'now';
  const after =
    r.failedBoots > 0
      ? ` after ${r.failedBoots} failed boot(s)`
      : r.crashes > 0
        ? ` after ${r.crashes} crash(es) in a row`
        : '';
  return `respawning ${when}${after}`;
}

/** The status table: a header line, then one row per worker. */
export function renderStatus(s: ControlStatus): string {
  const respawn = s.respawn ? `  ${renderRespawn(s.respawn)}` : '';
  const lines = [
    `tsgun ${s.version}  ${s.name}  master ${s.pid}  up ${age(s.uptimeSeconds)}  workers ${s.workers.filter((w) => w.state !== 'closing').length}/${s.targetWorkers}${respawn}`,
    `${pad('INDEX', 5)} ${pad('PID', 7)} ${'STATE'.padEnd(8)} ${pad('GEN', 4)} ${pad('REQUESTS', 9)} ${pad('RSS MiB', 8)} ${pad('AGE', 7)}`,
  ];
  for (const w of s.workers)
    lines.push(
      `${pad(w.index, 5)} ${pad(w.pid, 7)} ${w.state.padEnd(8)} ${pad(w.generation, 4)} ${pad(w.requests, 9)} ${pad((w.rssBytes / 1048576).toFixed(1), 8)} ${pad(age(w.ageSeconds), 7)}`,
    );
  return `${lines.join('\n')}\n`;
}

async function status(master: MasterAddress): Promise<ControlStatus> {
  const answer = await ask(master, { tsgun: 1, cmd: 'status' });
  if (!answer.ok || !answer.status)
    throw new TsgunError(ErrorCode.NO_MASTER, `master ${answer.pid}: ${errorOf(answer)}`);
  return answer.status;
}

const errorOf = (a: { ok: boolean; error?: string }) => (a.ok ? 'no status' : a.error);

/** Poll the status until `done` says so; past the deadline, a one-line TSGUN_ERR_CONTROL_TIMEOUT. */
async function waitFor(
  master: MasterAddress,
  ms: number,
  done: (s: ControlStatus) => boolean,
  what: (s: ControlStatus) => string,
): Promise<ControlStatus> {
  const deadline = Date.now() + ms;
  for (;;) {
    const s = await status(master);
    if (done(s)) return s;
    if (Date.now() > deadline)
      throw new TsgunError(
        ErrorCode.CONTROL_TIMEOUT,
        `not done after ${ms / 1000} s: ${what(s)} (the master's log says why)`,
      );
    await new Promise((r) => setTimeout(r, 200));
  }
}

const live = (s: ControlStatus) => s.workers.filter((w) => w.state !== 'closing');
const pids = (s: ControlStatus) =>
  live(s)
    .map((w) => w.pid)
    .join(' ');

/** Run a control verb; resolves with the exit code, throws a TsgunError for its one line. */
export async function runControl(
  verb: ControlVerb,
  program: Command,
  out: (line: string) => void = (l) => process.stdout.write(l),
): Promise<number> {
  const opts = program.opts();
  // Arguments are checked before anything is asked of a master.
  const target = verb === 'scale' ? scaleTarget(program.args[0]) : null;
  const wait = opts['wait'] !== false && verb !== 'status';
  const ms = verb === 'reload' || verb === 'scale' ? timeoutMs(verb, opts['timeout']) : 0;
  const master = await address(verb, opts);
  switch (verb) {
    case 'status': {
      const s = await status(master);
      out(opts['json'] === true ? `${JSON.stringify(s, null, 2)}\n` : renderStatus(s));
      return ExitCode.OK;
    }
    case 'reload': {
      const before = Math.max(0, ...(await status(master)).workers.map((w) => w.generation));
      const queued = await send(master, { tsgun: 1, cmd: 'reload' });
      if (!wait) return done(out, `reload: queued by master ${queued.pid}`);
      const s = await waitFor(
        master,
        ms,
        (s) =>
          live(s).length === s.targetWorkers &&
          live(s).every((w) => w.generation > before && w.state === 'ready'),
        (s) =>
          `${live(s).filter((w) => w.generation > before).length} of ${s.targetWorkers} workers replaced`,
      );
      return done(out, `reloaded: master ${s.pid}, ${s.targetWorkers} new worker(s): ${pids(s)}`);
    }
    case 'scale': {
      const queued = await send(master, { tsgun: 1, cmd: 'scale', workers: target! });
      if (!wait) return done(out, `scale: queued by master ${queued.pid}`);
      const s = await waitFor(
        master,
        ms,
        (s) => live(s).length === s.targetWorkers && live(s).every((w) => w.state === 'ready'),
        (s) => `${live(s).length} of ${s.targetWorkers} workers running`,
      );
      return done(out, `scaled: master ${s.pid}, ${s.targetWorkers} worker(s): ${pids(s)}`);
    }
    case 'stop': {
      const request: ControlRequest = { tsgun: 1, cmd: 'stop', quick: opts['quick'] === true };
      const answer = await send(master, request, wait);
      return done(out, `${wait ? 'stopped' : 'stopping'}: master ${answer.pid}`);
    }
  }
}

function done(out: (line: string) => void, line: string): number {
  out(`${line}\n`);
  return ExitCode.OK;
}

async function send(master: MasterAddress, request: ControlRequest, untilExit = false) {
  const answer = await ask(master, request, { untilExit });
  if (!answer.ok)
    throw new TsgunError(ErrorCode.CONFIG_INVALID, `master ${answer.pid}: ${answer.error}`);
  return answer;
}
