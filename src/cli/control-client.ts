import { lstatSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { openFailure, readRegularFile } from '../checked-open.js';
import { ErrorCode, TsgunError } from '../errors.js';
import {
  type ControlAnswer,
  type ControlRequest,
  controlPathFor,
  parseControlAnswer,
} from '../ipc/control.js';
import { isRunning, parsePid } from '../master/host/pid.js';

/**
 * Finding the master a control command talks to, and talking to it. Only the control socket is
 * used, never a signal: a pidfile is read to find the socket and to check what answers there, so
 * a stale pidfile whose pid now belongs to another process can never get that process killed.
 * Every refusal is one TsgunError (TSGUN_ERR_NO_MASTER, exit 5; TSGUN_ERR_CONTROL_SOCKET, exit 2).
 */

export interface MasterAddress {
  /** -p/--pid FILE, when given. */
  readonly pidfile: string | null;
  /** The pid the pidfile names (checked running), or null without a pidfile. */
  readonly pid: number | null;
  /** The control socket to connect to, checked to be this user's socket. */
  readonly socket: string;
}

const noMaster = (message: string) => new TsgunError(ErrorCode.NO_MASTER, message);
const untrusted = (message: string) => new TsgunError(ErrorCode.CONTROL_SOCKET, message);

/** The command line of a live process, as `ps -o args=` shows it ('' when unreadable). */
function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** The pid in the pidfile, after the checks that make it worth a look: present, a pid, running. */
function readPidfile(pidfile: string): number {
  let text: string;
  try {
    const st = lstatSync(pidfile);
    if (!st.isFile())
      throw noMaster(`--pid: ${pidfile} is not a regular file (a symlink is not followed)`);
    // Checked again as opened: a FIFO swapped in after the lstat is refused, not waited on.
    text = readRegularFile(pidfile, { noFollow: true });
  } catch (err) {
    if (err instanceof TsgunError) throw err;
    throw noMaster(
      (err as NodeJS.ErrnoException).code === 'ENOENT'
        ? `--pid: no pidfile at ${pidfile}: is tsgun running (with --pid ${pidfile})?`
        : `--pid: cannot read ${pidfile}: ${openFailure(err)}`,
    );
  }
  const pid = parsePid(text);
  if (pid === null)
    throw noMaster(
      `--pid: ${pidfile} holds no pid: ${JSON.stringify(text.slice(0, 40))} (not a tsgun pidfile)`,
    );
  if (!isRunning(pid))
    throw noMaster(`--pid: stale pidfile ${pidfile}: process ${pid} is not running`);
  return pid;
}

/** The socket file, refused unless it is a socket (not a link to one) owned by this user. */
function checkSocket(socket: string, pid: number | null, pidfile: string | null): void {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(socket);
  } catch {
    if (pid !== null && !commandLine(pid).startsWith('tsgun: master'))
      throw noMaster(
        `--pid: ${pidfile} names process ${pid}, which is not a tsgun master (${commandLine(pid) || 'command line unreadable'})`,
      );
    throw noMaster(
      pid !== null
        ? `no control socket at ${socket} for master ${pid} (started with another --control-socket?)`
        : `--control-socket: no such socket: ${socket}: is tsgun running?`,
    );
  }
  if (st.isSymbolicLink())
    throw untrusted(`--control-socket: ${socket} is a symlink: refusing to follow it`);
  if (!st.isSocket()) throw untrusted(`--control-socket: ${socket} is not a socket`);
  const me = process.getuid?.();
  if (me !== undefined && st.uid !== me)
    throw untrusted(
      `--control-socket: ${socket} belongs to uid ${st.uid}, not to this user (uid ${me}): refusing to talk to another user's socket`,
    );
}

/** From the command's -p/--control-socket to a socket worth connecting to. */
export function locateMaster(given: {
  pidfile: string | null;
  socket: string | null;
}): MasterAddress {
  const pid = given.pidfile ? readPidfile(given.pidfile) : null;
  const socket = given.socket ?? controlPathFor(given.pidfile!);
  checkSocket(socket, pid, given.pidfile);
  return { pidfile: given.pidfile, pid, socket };
}

/**
 * Send one request and resolve with the answer, checked to come from the master the pidfile
 * names. With `untilExit`, resolve only once the master closes the connection (it has exited).
 */
export function ask(
  master: MasterAddress,
  request: ControlRequest,
  opts: { untilExit?: boolean; timeoutMs?: number } = {},
): Promise<ControlAnswer> {
  const { untilExit = false, timeoutMs = 5000 } = opts;
  return new Promise((resolve, reject) => {
    const client = connect(master.socket);
    let buffer = '';
    let answer: ControlAnswer | null = null;
    const timer = setTimeout(
      () =>
        client.destroy(
          noMaster(`no answer on ${master.socket} within ${timeoutMs / 1000} s (master busy?)`),
        ),
      timeoutMs,
    );
    client.setEncoding('utf8');
    client.on('connect', () => client.write(`${JSON.stringify(request)}\n`));
    client.on('data', (chunk: string) => {
      buffer += chunk;
      const nl = buffer.indexOf('\n');
      if (nl < 0 || answer) return;
      answer = parseControlAnswer(buffer.slice(0, nl));
      if (!answer) {
        client.destroy(noMaster(`${master.socket} does not speak tsgun's control protocol`));
        return;
      }
      if (master.pid !== null && answer.pid !== master.pid) {
        client.destroy(
          noMaster(
            `--pid: ${master.pidfile} names process ${master.pid}, but master ${answer.pid} answers at ${master.socket}: stale pidfile?`,
          ),
        );
        return;
      }
      if (!untilExit || !answer.ok) {
        clearTimeout(timer);
        client.end();
        resolve(answer);
      } else clearTimeout(timer);
    });
    client.on('close', () => {
      clearTimeout(timer);
      if (answer) resolve(answer);
      else reject(noMaster(`${master.socket} closed the connection without an answer`));
    });
    client.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err instanceof TsgunError) return reject(err);
      reject(
        err.code === 'ECONNREFUSED'
          ? noMaster(`no master answers at ${master.socket} (a stale control socket)`)
          : err.code === 'EACCES'
            ? untrusted(`--control-socket: ${master.socket}: permission denied`)
            : noMaster(`cannot reach ${master.socket}: ${err.code ?? err.message}`),
      );
    });
  });
}
