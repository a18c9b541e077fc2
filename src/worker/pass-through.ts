import type { Server as NetServer } from 'node:net';
import type { Logger } from '../log/logger.js';
import type { ListenRequest } from './listen-plan.js';

/** How long a listen() on a port in use waits before it tries again. */
const PASS_RETRY_MS = 1000;
/** How often a worker still failing tells the master (which decides what is logged, and when). */
export const PASS_REPORT_MS = 10_000;

/** What the worker tells the master about a port the app's listen() cannot get. */
export interface PassBusyReport {
  readonly address: string;
  readonly port: number;
  /** Failed attempts since the previous report. */
  readonly attempts: number;
}

export interface PassThroughOptions {
  readonly logger: Logger;
  /** Tells the master: it knows which process holds the port, and logs it once for all workers. */
  readonly busy: (report: PassBusyReport) => void;
  /** net.Server's own listen, from before listen-capture.ts replaced it. */
  readonly nativeListen: NetServer['listen'];
}

/**
 * An address tsgun did not bind: Node listens on it for real, in this worker. With several
 * workers only one can hold it; the others try again every second (so the port moves to a new
 * worker when its holder exits) instead of failing with EADDRINUSE. Who holds it (another worker,
 * or a process that is no tsgun worker) is the master's to say: it can read its workers' sockets.
 */
export function listenPassThrough(
  server: NetServer,
  args: unknown[],
  request: ListenRequest,
  opts: PassThroughOptions,
): void {
  const what =
    request.kind === 'tcp' ? `${request.host ?? ''}:${request.port}` : 'a descriptor of its own';
  // exclusive: in a cluster worker Node would otherwise ask the primary, putting the master in
  // this port's accept path.
  const plain =
    request.kind === 'tcp'
      ? [{ port: request.port, ...(request.host ? { host: request.host } : {}), exclusive: true }]
      : typeof args[args.length - 1] === 'function'
        ? args.slice(0, -1)
        : args;
  const { logger } = opts;
  logger.info(
    { address: what },
    `the app listens on ${what}, which tsgun did not bind: one worker at a time listens on it (add it to --bind to serve it from every worker)`,
  );
  let failures = 0;
  let unreported = 0;
  let reportedAt = 0;
  const failed = () => {
    failures++;
    unreported++;
    // Every attempt at debug level: the warnings below are rate-limited, this is the full story.
    logger.debug({ address: what, failures }, `the app's listen() on ${what} failed: in use`);
    const now = Date.now();
    if (failures > 1 && now - reportedAt < PASS_REPORT_MS) return;
    reportedAt = now;
    if (request.kind === 'tcp')
      opts.busy({ address: what, port: request.port, attempts: unreported });
    else if (failures === 1)
      logger.warn(
        { address: what },
        `${what} is in use: this worker serves without it and tries again every second`,
      );
    unreported = 0;
  };
  const emit = server.emit;
  const attempt = () => {
    server.emit = function (this: NetServer, event: string | symbol, ...rest: unknown[]) {
      const code = (rest[0] as NodeJS.ErrnoException | undefined)?.code;
      if (event === 'error' && code === 'EADDRINUSE') {
        server.emit = emit;
        failed();
        setTimeout(attempt, PASS_RETRY_MS).unref();
        return true;
      }
      if (event === 'listening') {
        server.emit = emit;
        if (failures > 0)
          logger.info(
            { address: what, failures },
            `the app listens on ${what} now, after ${failures} failed attempt${failures === 1 ? '' : 's'}`,
          );
      }
      return Reflect.apply(emit, this, [event, ...rest]) as boolean;
    };
    Reflect.apply(opts.nativeListen, server, plain);
  };
  attempt();
}
