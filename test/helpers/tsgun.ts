import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const BIN = `${ROOT}bin/tsgun`;
export const fixture = (name: string) => `${ROOT}test/fixtures/${name}`;

export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly role?: string;
  readonly pid: number;
  readonly [key: string]: unknown;
}

type Waiter = { predicate: (l: LogLine) => boolean; resolve: (l: LogLine) => void };

const running = new Set<ChildProcess>();

/** Kill every process group a test started; call from an `after` hook. */
export function killAll(): void {
  for (const child of running) killGroup(child, 'SIGKILL');
  running.clear();
}

export function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    // The group is gone already.
  }
}

/** A running `bin/tsgun` in its own process group, with its JSON log lines parsed as they come. */
export class Tsgun {
  readonly child: ChildProcess;
  readonly logs: LogLine[] = [];
  stderrText = '';
  stdoutText = '';
  private waiters: Waiter[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Every process writing to tsgun's stderr (masters, workers) has closed it. */
  private readonly stderrClosed: Promise<void>;

  /**
   * `fds`: extra descriptors the child inherits from fd 3 on (sockets from "systemd").
   * `shellPrefix`: run through `sh -c "PREFIX node bin/tsgun ..."`, e.g. `LISTEN_PID=$$ exec`.
   */
  constructor(
    args: readonly string[],
    opts: {
      env?: NodeJS.ProcessEnv;
      cwd?: string;
      fds?: readonly number[];
      shellPrefix?: string;
      /** Run this tsgun executable (e.g. an app's node_modules/.bin/tsgun) instead of ours. */
      bin?: string;
      /** Never read stdout and stderr: pipes whose reader stopped (no log line is seen). */
      unread?: boolean;
    } = {},
  ) {
    const head = opts.bin ? [opts.bin] : [process.execPath, BIN];
    const quoted = [...head, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const [command, argv] = opts.shellPrefix
      ? ['sh', ['-c', `${opts.shellPrefix} ${quoted}`]]
      : [head[0]!, [...head.slice(1), ...args]];
    this.child = spawn(command, argv, {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, ...opts.env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe', ...(opts.fds ?? [])],
    });
    running.add(this.child);
    this.exited = once(this.child, 'exit').then(([code, signal]) => {
      running.delete(this.child);
      return { code: code as number | null, signal: signal as NodeJS.Signals | null };
    });
    this.stderrClosed = once(this.child.stderr!, 'close').then(() => {});
    if (opts.unread) return;
    let buffer = '';
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderrText += chunk;
      buffer += chunk;
      let nl = buffer.indexOf('\n');
      while (nl >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        nl = buffer.indexOf('\n');
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line) as LogLine;
        this.logs.push(entry);
        this.waiters = this.waiters.filter((w) => {
          if (!w.predicate(entry)) return true;
          w.resolve(entry);
          return false;
        });
      }
    });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdoutText += chunk;
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Resolves with the first log line (past or future) that matches; rejects after timeoutMs. */
  waitForLog(predicate: (l: LogLine) => boolean, timeoutMs = 10_000, from = 0): Promise<LogLine> {
    const seen = this.logs.slice(from).find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(
          new Error(
            `timed out waiting for a log line; last lines:\n${this.stderrText.split('\n').slice(-8).join('\n')}`,
          ),
        );
      }, timeoutMs);
      const waiter: Waiter = {
        predicate,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      };
      this.waiters.push(waiter);
      // Not the master's exit: after a USR2 upgrade the new master logs on the same stream.
      this.stderrClosed.then(() => {
        if (this.waiters.includes(waiter)) {
          clearTimeout(timer);
          reject(
            new Error(
              `tsgun's log closed before the line; stderr:\n${this.stderrText.slice(-2000)}`,
            ),
          );
        }
      });
    });
  }

  /** Resolves once `n` workers have said ready since log line `from`. */
  async waitForReady(n: number, from = 0, timeoutMs = 10_000): Promise<LogLine[]> {
    const ready: LogLine[] = [];
    let index = from;
    while (ready.length < n) {
      const line = await this.waitForLog((l) => l.msg === 'worker ready', timeoutMs, index);
      ready.push(line);
      index = this.logs.indexOf(line) + 1;
    }
    return ready;
  }

  /** The URL of the first bound address, from the master's "listening at" line. */
  async url(): Promise<string> {
    const line = await this.waitForLog((l) => l.msg.startsWith('listening at'));
    return line['address'] as string;
  }

  async port(): Promise<number> {
    return Number(new URL(await this.url()).port);
  }

  signal(sig: NodeJS.Signals): void {
    process.kill(this.pid, sig);
  }

  /** Send a signal and wait for the first matching log line written after it. */
  signalAndWait(
    sig: NodeJS.Signals,
    predicate: (l: LogLine) => boolean,
    timeoutMs = 10_000,
  ): Promise<LogLine> {
    const mark = this.logs.length;
    this.signal(sig);
    return this.waitForLog(predicate, timeoutMs, mark);
  }

  /** HUP, then wait until the rolling reload has replaced every worker. */
  reload(timeoutMs = 20_000): Promise<LogLine> {
    return this.signalAndWait('SIGHUP', (l) => l.msg === 'reload complete', timeoutMs);
  }

  /** USR2: resolves with the new master's pid once `workers` of its workers are ready. */
  async upgrade(workers: number): Promise<number> {
    const mark = this.logs.length;
    this.signal('SIGUSR2');
    const started = await this.waitForLog(
      (l) => l.msg.startsWith('USR2: started a new master'),
      10_000,
      mark,
    );
    const newMaster = started['childPid'] as number;
    let index = mark;
    for (let i = 0; i < workers; i++) {
      const line = await this.waitForLog(
        (l) => l.pid === newMaster && l.msg === 'worker ready',
        15_000,
        index,
      );
      index = this.logs.indexOf(line) + 1;
    }
    return newMaster;
  }

  /** Pids of live workers, from the master's log: booted minus exited. */
  liveWorkerPids(): number[] {
    const live = new Set<number>();
    for (const l of this.logs) {
      if (l.role !== 'master' || typeof l['workerPid'] !== 'number') continue;
      if (l.msg === 'worker ready') live.add(l['workerPid'] as number);
      if (l.msg === 'worker exited' || /respawning|not respawned/.test(String(l.msg)))
        live.delete(l['workerPid'] as number);
    }
    return [...live];
  }

  kill(): void {
    killGroup(this.child, 'SIGKILL');
  }
}

/** Run tsgun to completion (for commands that exit: --version, bad input). */
export async function runTsgun(
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const t = new Tsgun(args, opts);
  const timer = setTimeout(() => t.kill(), opts.timeoutMs ?? 15_000);
  const { code } = await t.exited;
  clearTimeout(timer);
  return { code, stdout: t.stdoutText, stderr: t.stderrText };
}

/** The lines of stderr that are not JSON log lines: what a person reads. */
export function plainLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l !== '' && !l.startsWith('{'));
}

/** /proc/PID/stat's fields after the command (which may hold spaces): state ppid pgrp ... */
function procStat(pid: number | string): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null; // Gone while we looked.
  }
}

/**
 * Whether `pid` still runs. A zombie has exited: it only waits to be reaped, which for an
 * orphan is init's doing, and some inits (this machine's) reap only now and then.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const state = procStat(pid)?.[0];
  return state !== undefined && state !== 'Z';
}

/** Pids of the live processes in a process group (a Tsgun's group is its pid), read from /proc. */
export function groupPids(pgid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const [state, , pgrp] = procStat(entry) ?? [];
    if (Number(pgrp) === pgid && state !== 'Z') pids.push(Number(entry));
  }
  return pids;
}

/** tsgun serving the standard fixture app on a free port, with extra arguments. */
export function startApp(...args: string[]): Tsgun {
  return new Tsgun([fixture('app.mjs'), '-b', '127.0.0.1:0', ...args]);
}

/** Whether another user (nobody) can reach the checkout: every ancestor searchable by others. */
function othersCanRead(path: string): boolean {
  let dir = path;
  for (;;) {
    if ((statSync(dir).mode & 0o005) !== 0o005) return false;
    const parent = join(dir, '..');
    if (parent === dir) return true;
    dir = parent;
  }
}

/** The `skip` of a test that runs tsgun with --user nobody: false when it can run here. */
/** tsgun --router with the fixture app; resolves once the router and `workers` workers are ready. */
export async function startRouter(workers: number, ...args: string[]): Promise<Tsgun> {
  const t = startApp('--router', '-w', String(workers), ...args);
  await waitForRouter(t, workers);
  return t;
}

/** Resolves once a --router tsgun's router and `workers` workers are ready. */
export async function waitForRouter(t: Tsgun, workers: number): Promise<void> {
  await t.waitForLog((l) => l.msg === 'router ready');
  await t.waitForReady(workers);
  // The router has the whole list (it arrives after the master's "worker ready" lines).
  await t.waitForLog((l) => l.role === 'router' && l.msg === `routing to ${workers} worker(s)`);
}

/** nobody's uid (and nogroup's gid) on Debian and Ubuntu: the other user of the privilege tests. */
export const NOBODY = 65534;

export const nobodySkip =
  process.getuid?.() !== 0
    ? 'needs root (to start tsgun with --user nobody)'
    : !othersCanRead(ROOT)
      ? 'the checkout is not readable by other users'
      : false;

/**
 * Poll `check` until it holds; false once the deadline passes. Only for what has no event: a file
 * appended to, a process that is gone without a log line.
 */
export async function pollUntil(check: () => boolean, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/**
 * Wait until a file exists and its text passes `check`. Files have no event for "a line was
 * appended" (a log file written by tsgun's workers): poll, bounded by a deadline.
 */
export async function waitForFile(
  file: string,
  check: (text: string) => boolean,
  timeoutMs = 10_000,
): Promise<string> {
  let text: string | null = null;
  const read = () => {
    text = existsSync(file) ? readFileSync(file, 'utf8') : null;
    return text !== null && check(text);
  };
  if (await pollUntil(read, timeoutMs)) return text!;
  throw new Error(`${file} never matched; it holds:\n${String(text).slice(-1000)}`);
}

/**
 * `bin/tsgun ARGS` with a pseudo-terminal as its stdin, stdout and stderr (util-linux `script`),
 * in its own process group: what a person at a terminal sees, colours and all. `waitFor` resolves
 * with everything printed so far once it matches.
 */
export function inTerminal(
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): {
  child: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
} {
  const quoted = [process.execPath, BIN, ...args]
    .map((a) => `'${a.replace(/'/g, `'\\''`)}'`)
    .join(' ');
  // `script` runs the line with $SHELL -c, or /bin/sh without one (CI): Debian's sh forks rather
  // than execs, and its own death by the terminal's SIGINT would be the exit status read here.
  const child = spawn('script', ['-qfec', `exec ${quoted}`, '/dev/null'], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, ...opts.env },
    detached: true,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let text = '';
  const seen: (() => void)[] = [];
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    text += chunk;
    for (const check of seen.slice()) check();
  });
  const waitFor = (pattern: RegExp, timeoutMs = 10_000) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        seen.splice(seen.indexOf(check), 1);
        reject(
          new Error(`timed out waiting for ${pattern} in the terminal:\n${text.slice(-2000)}`),
        );
      }, timeoutMs);
      const check = () => {
        if (!pattern.test(text)) return;
        clearTimeout(timer);
        seen.splice(seen.indexOf(check), 1);
        resolve(text);
      };
      seen.push(check);
      check();
    });
  return { child, output: () => text, waitFor };
}
