import { ErrorCode, ExitCode, TsgunError } from '../errors.js';
import { clip } from '../ipc/limits.js';
import {
  FIRST_LISTEN_FD,
  type MasterMessage,
  type TlsMaterial,
  WORKER_ENV,
  workerMessage,
} from '../ipc/protocol.js';
import { receiveFromMaster } from '../ipc/receive.js';
import type { Logger } from '../log/logger.js';
import { setProcessTitle } from '../log/proc-title.js';
import { adoptFallbacks, warnForced } from '../platform/checks.js';
import { PlatformError } from '../platform/platform-error.js';
import type { Acceptor } from './acceptor.js';
import { sendToMaster } from './attach.js';
import { dropPrivileges } from './drop-privileges.js';
import { openErrorLog } from './open-log.js';

/**
 * The boot that a worker and the router share: privileges, the config from the environment, the
 * error log, the process title, boot-failure reports, the master's messages, the final listen.
 * Each entry point (worker/main.ts, router/main.ts) adds only what is its own; what they share
 * once their server is made (TLS, the acceptor, the stop signals) is serve.ts.
 */

export type ChildRole = 'worker' | 'router';

type LogOptions = Parameters<typeof openErrorLog>[0];

/** The settings the boot reads (child/ does not read the config module: each main passes its). */
export interface ChildConfig {
  logLevel: LogOptions['level'];
  errorLogfile: string;
  name: string | null;
  logFormat: NonNullable<LogOptions['format']>;
}

export interface ChildBoot<C extends ChildConfig> {
  readonly role: ChildRole;
  readonly id: number;
  readonly config: C;
  /** `tsgun check`: load the app and exit. */
  readonly check: boolean;
  readonly log: ReturnType<typeof openErrorLog>['log'];
  readonly logger: Logger;
  /** Log the failure, tell the master (boot-error) and exit with the error's code. */
  readonly fail: (err: unknown) => never;
}

/** The master's plumbing, taken out of the environment: the app's should look like the operator's. */
function readChildEnv<C>(): {
  id: number;
  config: C;
  check: boolean;
  fallbacks: string | undefined;
} {
  const id = Number(process.env[WORKER_ENV.id]);
  const config = JSON.parse(process.env[WORKER_ENV.config] ?? 'null') as C;
  const check = process.env[WORKER_ENV.check] === '1';
  const fallbacks = process.env[WORKER_ENV.fallbacks];
  delete process.env[WORKER_ENV.fallbacks];
  delete process.env[WORKER_ENV.id];
  delete process.env[WORKER_ENV.config];
  delete process.env[WORKER_ENV.check];
  return { id, config, check, fallbacks };
}

/** The error a failed boot reports: one log line (the one full report), boot-error, exit. */
function failBoot(
  role: ChildRole,
  logger: Logger,
  err: unknown,
  detailOf: (err: unknown) => unknown,
): never {
  const known =
    err instanceof TsgunError
      ? err
      : new TsgunError(ErrorCode.WORKER_BOOT, `${role} failed to boot: ${String(err)}`);
  // The code frame or the app's stack (a worker's AppLoadError): the master refers to this line.
  const detail = detailOf(err);
  logger.error(
    { code: known.code, err: err instanceof TsgunError ? undefined : err, detail },
    known.message,
  );
  sendToMaster(
    workerMessage({ type: 'boot-error', code: known.code, message: clip(known.message) }),
  );
  process.exit(known.exitCode);
}

/**
 * Everything up to the point where the child's own part starts. `detailOf` gives the full report
 * of an error of the child's own (the worker's app load), logged with the failure.
 */
export function bootChild<C extends ChildConfig>(
  role: ChildRole,
  detailOf: (err: unknown) => unknown = () => undefined,
): ChildBoot<C> {
  // Before any file is opened or any app code runs: become --user/--group, or refuse to run.
  const refused = dropPrivileges();
  const { id, config, check, fallbacks } = readChildEnv<C>();
  const { log, error: logError } = openErrorLog({
    level: config.logLevel,
    // A child that could not switch reports on stderr: it opens no file as root.
    file: refused ? '-' : config.errorLogfile,
    role,
    ...(role === 'worker' ? { worker: id } : {}),
    name: config.name,
    format: config.logFormat,
  });
  // A worker's index (NODE_APP_INSTANCE), which a replacement takes over: what `ps` users track.
  if (role === 'worker')
    setProcessTitle('worker', config.name, Number(process.env['TSGUN_WORKER_INDEX'] ?? id));
  else setProcessTitle('router', config.name);
  const logger = log.logger;
  const fail = (err: unknown): never => failBoot(role, logger, err, detailOf);
  if (refused) fail(refused);
  if (logError) fail(logError);
  warnForced(logger);
  // Node's private behaviour was checked by the master, on the same Node binary.
  const adopted = adoptFallbacks(fallbacks);
  if (adopted.length > 0)
    logger.debug(
      { fallbacks: adopted },
      "public-API fallbacks in use: the master's platform check chose them",
    );
  return { role, id, config, check, log, logger, fail };
}

/** The TLS material the master sends a child: the first, and the rotations after it. */
export interface MasterLink {
  readonly tls: Promise<TlsMaterial>;
  readonly onRotate: (rotate: (m: TlsMaterial) => void) => void;
}

/**
 * Listens to the master. Call before the first await: a message that arrives while no listener
 * exists is lost (the master sends the TLS material right after forking). The first TLS material
 * resolves `tls`; later ones (a HUP's rotation) go to `rotate` when the child set one.
 */
export function listenToMaster(
  logger: Logger,
  own: (message: MasterMessage, handle: unknown) => void,
): MasterLink {
  let first: ((m: TlsMaterial) => void) | null = null;
  let rotate: ((m: TlsMaterial) => void) | null = null;
  const tls = new Promise<TlsMaterial>((resolve) => {
    first = resolve;
  });
  process.on('message', (value: unknown, handle: unknown) => {
    const received = receiveFromMaster(value);
    if (received.kind === 'invalid')
      logger.warn({ reason: received.reason }, 'ignored a malformed message from the master');
    if (received.kind !== 'ours') return;
    const message = received.message;
    if (message.type === 'tls') {
      const material: TlsMaterial = { cert: message.cert, key: message.key, ca: message.ca };
      if (rotate) rotate(material);
      else first?.(material);
      return;
    }
    own(message, handle);
  });
  return {
    tls,
    onRotate: (r) => {
      rotate = r;
    },
  };
}

/** Listen on the sockets the master gave: inherited fds, or handles a spare received. */
export async function listenOnSockets(
  boot: ChildBoot<ChildConfig>,
  acceptor: Acceptor,
  count: number,
  received: readonly object[] | null,
): Promise<void> {
  try {
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        received
          ? acceptor.listenReceived(i, received[i]!)
          : acceptor.listen(i, { fd: FIRST_LISTEN_FD + i }),
      ),
    );
  } catch (err) {
    boot.fail(
      err instanceof PlatformError
        ? err
        : new TsgunError(
            ErrorCode.WORKER_LISTEN,
            `${boot.role} cannot listen: ${(err as Error).message}`,
          ),
    );
  }
}

/** The entry point's last resort: an error no boot step reported. */
export function runChild(role: ChildRole, main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    process.stderr.write(`tsgun ${role}: ${String((err as Error)?.stack ?? err)}\n`);
    process.exit(ExitCode.WORKER_BOOT);
  });
}
