import type {
  Server as HttpServer,
  IncomingMessage,
  RequestListener,
  ServerResponse,
} from 'node:http';
import { answerInstead, refuse } from '../child/refuse.js';
import { checkLimits, limitText } from '../child/request-limits.js';
import type { Config } from '../config/registry.js';
import { callHook, type WorkerFacade, type WorkerHooks } from '../hooks.js';
import type { Logger } from '../log/logger.js';
import type { AccessLog } from './access-log.js';
import type { Counters } from './counters.js';

export { checkLimits };

/** The per-worker request state the gate updates; the rest of the worker reads it. */
export interface GateState {
  requests: number;
  /** Set when the worker drains: every response from now on says Connection: close. */
  draining: boolean;
}

export interface GateOptions {
  readonly config: Pick<
    Config,
    | 'keepAlive'
    | 'limitRequestLine'
    | 'limitRequestFields'
    | 'limitRequestFieldSize'
    | 'requestTimeout'
  >;
  readonly state: GateState;
  readonly maxRequests: number;
  readonly onMaxRequests: () => void;
  readonly accessLog: AccessLog | null;
  readonly counters: Counters | null;
  readonly logger: Logger;
  /** preRequest/postRequest from the config file, and the worker they are told about. */
  readonly hooks: WorkerHooks;
  readonly worker: WorkerFacade;
  /**
   * Called once, at the first engine.io long-polling request, when this worker is one of several
   * without sticky sessions (where such sessions break); absent otherwise, so it costs nothing.
   */
  readonly onSessionPolling?: () => void;
}

/**
 * An engine.io (socket.io) long-polling request: `EIO=` and `transport=polling` in the query,
 * whatever path the app gave socket.io.
 */
export function isEnginePolling(url: string | undefined): boolean {
  return url?.includes('transport=polling') === true && url.includes('EIO=');
}

/**
 * --request-timeout: answer 504 for a request the app has not finished in time, and make the
 * app's late writes to that response harmless. Unlike uWSGI's harakiri the worker lives on; a
 * blocked loop is the heartbeat's job.
 */
function armDeadline(req: IncomingMessage, res: ServerResponse, ms: number, logger: Logger): void {
  const timer = setTimeout(() => {
    if (res.writableEnded) return;
    logger.warn(
      { method: req.method, url: req.url, timeoutMs: ms },
      'request timed out (--request-timeout)',
    );
    answerInstead(res, 504, 'Gateway Timeout: the app did not answer in time\n');
  }, ms);
  res.once('close', () => clearTimeout(timer));
}

/**
 * Put tsgun's per-request step in front of the app's request listeners: count, enforce limits,
 * close keep-alive while draining, log access. It is the only work tsgun adds per request.
 */
export function installGate(
  server: HttpServer,
  app: RequestListener | null,
  opts: GateOptions,
): void {
  const listeners = (server.listeners('request') as RequestListener[]).slice();
  if (app) listeners.push(app);
  server.removeAllListeners('request');
  const { config, state, maxRequests, accessLog, counters } = opts;
  const { preRequest, postRequest } = opts.hooks;
  const noKeepAlive = config.keepAlive === 0;
  const deadlineMs = config.requestTimeout * 1000;
  let onSessionPolling = opts.onSessionPolling ?? null;
  // Node silently drops headers past maxHeadersCount (2000 by default), Host included: it must
  // stay above the limit so that the limit, not a missing Host, decides the answer.
  if (config.limitRequestFields >= 2000) server.maxHeadersCount = config.limitRequestFields + 1;
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    state.requests++;
    if (onSessionPolling !== null && isEnginePolling(req.url)) {
      onSessionPolling();
      onSessionPolling = null;
    }
    if (state.draining || noKeepAlive) res.shouldKeepAlive = false;
    if (accessLog) accessLog.record(req, res);
    if (counters) counters.track(res);
    const status = checkLimits(req, config);
    if (status !== 0) {
      refuse(res, status, limitText(status));
      return;
    }
    if (deadlineMs > 0) armDeadline(req, res, deadlineMs, opts.logger);
    if (preRequest) callHook(preRequest, 'preRequest', opts.logger, opts.worker, req);
    if (postRequest)
      res.once('finish', () =>
        callHook(postRequest, 'postRequest', opts.logger, opts.worker, req, res),
      );
    if (state.requests === maxRequests) opts.onMaxRequests();
    for (const listener of listeners) listener.call(server, req, res);
  });
}
