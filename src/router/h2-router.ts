import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { type H2Front, h2Front } from '../child/h2-front.js';
import type { Config } from '../config/registry.js';
import type { Logger } from '../log/logger.js';

/** The router's --http2 front: h2c prior knowledge only from --forwarded-allow-ips peers. */
export function routerH2(
  config: Config,
  http1: Server,
  onRequest: (req: IncomingMessage, res: ServerResponse) => void,
  logger: Logger,
): H2Front {
  return h2Front({
    http1,
    allowFrom: config.forwardedAllowIps,
    onRequest,
    // A session with no stream is an idle keep-alive connection; one with a stream in flight
    // waits on the worker, as long as --proxy-timeout lets a request wait.
    idleMs: Math.max(config.keepAlive, config.proxyTimeout) * 1000,
    logger,
  });
}
