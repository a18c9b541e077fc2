import { spawn } from 'node:child_process';
import type { HookName } from '../../hooks.js';
import type { Logger } from '../../log/logger.js';

/**
 * systemd `Type=notify`: the master tells the service manager when it is ready, reloading,
 * stopping, and which process is the main one after a USR2 upgrade (sd_notify(3)).
 *
 * Node has no unix datagram sockets, so the master runs systemd's own client, `systemd-notify
 * VAR=VALUE...`, one message at a time: each run waits (sd_notify_barrier) until the manager has
 * processed its message, so running them one after the other keeps the order. systemd-notify
 * sends the message as its parent, the master, when it may (as root); otherwise as itself, a
 * child of the master, which systemd only accepts with `NotifyAccess=all` in the unit.
 * Without NOTIFY_SOCKET nothing is ever spawned. A failed run is one warning, then silence: the
 * server keeps serving either way.
 */

/** What the master tells the manager; each becomes one datagram. */
export type NotifyEvent =
  | { readonly kind: 'ready'; readonly pid: number; readonly workers: number }
  | { readonly kind: 'reloading'; readonly monotonicUsec: bigint }
  | { readonly kind: 'reloaded'; readonly workers: number; readonly aborted: boolean }
  | { readonly kind: 'stopping'; readonly mode: 'graceful' | 'quick' };

/** STATUS= is one line of free text. */
function status(text: string): string {
  return `STATUS=${text.replace(/[\r\n]+/g, ' ')}`;
}

/** The assignments of one message, in sd_notify's words. Pure. */
export function notifyMessage(event: NotifyEvent): string[] {
  switch (event.kind) {
    case 'ready':
      // MAINPID: the master, also when a USR2 upgrade's new master (or a re-exec) says it.
      return ['READY=1', `MAINPID=${event.pid}`, status(`${event.workers} worker(s) ready`)];
    case 'reloading':
      // systemd >= 253 (Type=notify-reload) needs the monotonic time of the reload with it.
      return [
        'RELOADING=1',
        `MONOTONIC_USEC=${event.monotonicUsec}`,
        status('reloading: replacing workers'),
      ];
    case 'reloaded':
      // An aborted reload still serves (the old workers): running again, and the status says so.
      return [
        'READY=1',
        status(
          event.aborted
            ? 'reload aborted: the old workers keep serving (see the log)'
            : `reload complete: ${event.workers} worker(s) ready`,
        ),
      ];
    case 'stopping':
      return ['STOPPING=1', status(event.mode === 'graceful' ? 'stopping gracefully' : 'stopping')];
  }
}

/** CLOCK_MONOTONIC in microseconds: libuv's hrtime reads that clock on Linux. */
export function monotonicUsec(): bigint {
  return process.hrtime.bigint() / 1000n;
}

/**
 * The master's notifier. During a USR2 upgrade two masters run: the old one goes silent once it
 * starts the new one (which says READY with its own MAINPID when its workers are ready), and
 * speaks again, with its own MAINPID, only if the new one exits first. A master that stops
 * while another serves (either side of an upgrade) sends no STOPPING=1: the service does not stop.
 */
export class SystemdNotifier {
  private readonly socket: string | undefined;
  private readonly queue: string[][] = [];
  private running = false;
  private broken = false;
  private muted = false;
  private reloading = false;

  constructor(
    env: NodeJS.ProcessEnv,
    private readonly logger: Logger,
    /** How many workers the master runs now (for STATUS=). */
    private readonly workers: () => number,
  ) {
    this.socket = env['NOTIFY_SOCKET'] || undefined;
  }

  /** The master hooks mark the same moments: whenReady, onReload (HUP), preExec (USR2). */
  hook(name: HookName): void {
    if (name === 'whenReady')
      this.send({ kind: 'ready', pid: process.pid, workers: this.workers() });
    else if (name === 'onReload') {
      this.reloading = true;
      this.send({ kind: 'reloading', monotonicUsec: monotonicUsec() });
    } else if (name === 'preExec') this.muted = true;
  }

  /** Every worker of the new generation is ready, or the reload was aborted. */
  reloaded(aborted: boolean): void {
    if (!this.reloading) return;
    this.reloading = false;
    this.send({ kind: 'reloaded', workers: this.workers(), aborted });
  }

  /** The new master of a USR2 upgrade exited while this one still serves: it is main again. */
  upgradeEnded(stopping: boolean): void {
    if (!this.muted) return;
    this.muted = false;
    if (!stopping) this.send({ kind: 'ready', pid: process.pid, workers: this.workers() });
  }

  /** `shared`: another master serves on the same sockets (an upgrade under way). */
  stopping(mode: 'graceful' | 'quick', shared: boolean): void {
    if (!shared) this.send({ kind: 'stopping', mode });
  }

  private send(event: NotifyEvent): void {
    if (!this.socket || this.broken || this.muted) return;
    this.queue.push(notifyMessage(event));
    this.next();
  }

  private next(): void {
    if (this.running || this.broken) return;
    const message = this.queue.shift();
    if (!message) return;
    this.running = true;
    let stderr = '';
    const child = spawn('systemd-notify', message, { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    // Never keeps the master alive: a stop does not wait for the last message.
    child.unref();
    const failed = (why: string) => {
      if (this.broken) return;
      this.broken = true;
      this.queue.length = 0;
      this.logger.warn(
        { notifySocket: this.socket },
        `systemd notify: ${why}; not notifying systemd any more (the server keeps serving)`,
      );
    };
    child.on('error', (err) => failed(`cannot run systemd-notify (${err.message})`));
    child.on('close', (code) => {
      this.running = false;
      if (code === 0) this.logger.debug({ message }, 'systemd notify: sent');
      else if (code !== null) failed(`systemd-notify exited ${code}: ${stderr.trim()}`);
      this.next();
    });
  }
}
