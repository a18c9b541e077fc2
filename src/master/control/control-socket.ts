import { lstatSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { Config } from '../../config/registry.js';
import { ErrorCode, TsgunError } from '../../errors.js';
import {
  type ControlAnswer,
  type ControlRequest,
  type ControlRespawn,
  type ControlStatus,
  controlPathFor,
  MAX_CONTROL_LINE,
  parseControlRequest,
} from '../../ipc/control.js';
import type { Logger } from '../../log/logger.js';
import { VERSION } from '../../version.js';
import { clearStaleUnixSocket } from '../sockets/sockets.js';
import type { WorkerRecord } from '../workers/worker-record.js';

/**
 * The master's control socket (`tsgun status|reload|scale|stop`), uWSGI's master FIFO and
 * Gunicorn's control socket in one: a unix socket, mode 0600 and owned by the master's user (root
 * under --user: the workers' user must not be able to stop or scale the server), speaking the JSON
 * lines of src/ipc/control.ts. It is a thin adapter: stop and reload become the signals they are
 * (queued like the signal listeners queue them), scale a queued target, status a read.
 */

/** --control-socket, or the path beside --pid; null: no control socket. */
export function controlPath(config: Pick<Config, 'controlSocket' | 'pid'>): string | null {
  return config.controlSocket ?? (config.pid ? controlPathFor(config.pid) : null);
}

/** What the control socket may ask of the arbiter. */
export interface OperatorVerbs {
  enqueue(signal: 'SIGHUP' | 'SIGTERM' | 'SIGQUIT'): void;
  scale(workers: number | 'auto'): void;
  status(): ControlStatus;
}

/** `tsgun status`'s view of the worker table, read now. */
export function controlStatus(
  workers: readonly WorkerRecord[],
  targetWorkers: number,
  name: string,
  respawn: ControlRespawn | null,
  now = Date.now(),
): ControlStatus {
  return {
    respawn,
    name,
    version: VERSION,
    pid: process.pid,
    uptimeSeconds: Math.round(process.uptime()),
    targetWorkers,
    workers: [...workers]
      .sort((a, b) => a.index - b.index || a.id - b.id)
      .map((w) => ({
        index: w.index,
        pid: w.pid,
        state: w.state,
        generation: w.generation,
        requests: Math.max(w.requests, w.counters?.requests ?? 0),
        rssBytes: rssOf(w.pid),
        ageSeconds: Math.max(0, Math.round((now - w.spawnedAt) / 1000)),
      })),
  };
}

/** Resident memory of a process, read now from /proc (VmRSS), 0 when unknown. */
function rssOf(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** The file at `path` as (device, inode), or null: how "still ours" is told apart. */
function identity(path: string): string | null {
  try {
    const st = lstatSync(path);
    return st.isSocket() ? `${st.dev}:${st.ino}` : null;
  } catch {
    return null;
  }
}

export class ControlSocket {
  private current: string;
  private constructor(
    private readonly server: Server,
    bound: string,
    private readonly id: string | null,
  ) {
    this.current = bound;
  }

  /**
   * Bind `path` (`<path>.2` for an upgraded master until it is promoted: the old master still
   * answers at `path`). A live socket there is refused, a stale one replaced, anything else refused
   * (src/master/sockets/sockets.ts clearStaleUnixSocket); bind(2) never follows a symlink planted at the
   * path, and the umask makes the file 0600 at its creation, with no window.
   */
  static async open(
    path: string,
    upgrading: boolean,
    verbs: () => OperatorVerbs | null,
    logger: Logger,
  ): Promise<ControlSocket> {
    const bound = upgrading ? `${path}.2` : path;
    const shown = `--control-socket: ${bound}`;
    try {
      await clearStaleUnixSocket(bound, bound);
    } catch (err) {
      throw new TsgunError(ErrorCode.CONTROL_SOCKET, `--control-socket: ${(err as Error).message}`);
    }
    const server = createServer((socket) => serve(socket, verbs, logger));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(new TsgunError(ErrorCode.CONTROL_SOCKET, `${shown}: ${err.code ?? err.message}`)),
      );
      // Node binds inside listen() (the master is not a cluster worker): the umask covers it.
      const umask = process.umask(0o177);
      try {
        server.listen(bound, resolve);
      } finally {
        process.umask(umask);
      }
    });
    server.unref();
    return new ControlSocket(server, bound, identity(bound));
  }

  get path(): string {
    return this.current;
  }

  /** An upgraded master, promoted, takes over the path (rename replaces the old master's file). */
  promote(path: string): void {
    if (this.current === path) return;
    try {
      renameSync(this.current, path);
      this.current = path;
    } catch {
      // Moved or removed by someone else: this master keeps answering where it is.
    }
  }

  /**
   * On exit: the file goes only while it is still this master's socket (after a USR2 the path may
   * be the new master's by now). The server is not closed: libuv unlinks the path it bound when the
   * handle closes, whoever's file it is by then; the process exits right after anyway.
   */
  close(): void {
    if (this.id !== null && identity(this.current) === this.id) {
      try {
        unlinkSync(this.current);
      } catch {
        // Gone already.
      }
    }
    this.server.unref();
  }
}

/** One client: request lines in, answer lines out; a stop's connection stays open until exit. */
function serve(socket: Socket, verbs: () => OperatorVerbs | null, logger: Logger): void {
  let buffer = '';
  socket.setEncoding('utf8');
  socket.on('error', () => {});
  const send = (answer: ControlAnswer) => socket.write(`${JSON.stringify(answer)}\n`);
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      send(answer(line, verbs(), logger));
    }
    if (buffer.length > MAX_CONTROL_LINE) {
      send({ tsgun: 1, ok: false, pid: process.pid, error: 'request line too long' });
      socket.end();
    }
  });
}

function answer(line: string, verbs: OperatorVerbs | null, logger: Logger): ControlAnswer {
  const pid = process.pid;
  let request: ControlRequest;
  try {
    request = parseControlRequest(line);
  } catch (err) {
    return { tsgun: 1, ok: false, pid, error: (err as Error).message };
  }
  if (!verbs) return { tsgun: 1, ok: false, pid, error: 'the master is still starting' };
  if (request.cmd !== 'status') logger.info({ command: request }, `control: ${request.cmd}`);
  switch (request.cmd) {
    case 'status':
      return { tsgun: 1, ok: true, pid, status: verbs.status() };
    case 'reload':
      verbs.enqueue('SIGHUP');
      return { tsgun: 1, ok: true, pid };
    case 'scale':
      verbs.scale(request.workers);
      return { tsgun: 1, ok: true, pid };
    case 'stop':
      verbs.enqueue(request.quick ? 'SIGQUIT' : 'SIGTERM');
      return { tsgun: 1, ok: true, pid };
  }
}
