import type { Server as HttpServer } from 'node:http';
import { maxHeaderSizeFor } from '../child/request-limits.js';
import { SlotKeeper } from '../child/slots.js';
import type { Config } from '../config/registry.js';
import type { Logger } from '../log/logger.js';
import { answerInstead } from './request-gate.js';

export { maxHeaderSizeFor, NODE_HEADER_CAP } from '../child/request-limits.js';

type LimitConfig = Pick<
  Config,
  | 'headerTimeout'
  | 'clientBodyTimeout'
  | 'sendTimeout'
  | 'workerConnections'
  | 'limitRequestLine'
  | 'limitRequestFieldSize'
>;

/**
 * Set the http.Server's slow-client limits (the app's own server too: Node reads these properties
 * per connection) and make the keeper that guards the worker's connection slots.
 */
export function applyServerLimits(
  server: HttpServer,
  config: LimitConfig,
  logger: Logger,
): SlotKeeper {
  const tunable = server as HttpServer & {
    connectionsCheckingInterval: number;
    maxHeaderSize: number;
  };
  const headerMs = config.headerTimeout * 1000;
  // Node measures from the first byte of a request and answers 408. Its check runs every
  // connectionsCheckingInterval (30 s by default), read when the server starts listening.
  server.headersTimeout = headerMs;
  if (headerMs > 0 && server.requestTimeout > 0 && server.requestTimeout < headerMs)
    server.requestTimeout = headerMs;
  tunable.connectionsCheckingInterval = Math.min(1000, Math.max(100, headerMs / 4));
  const maxHeaderSize = maxHeaderSizeFor(config);
  if (maxHeaderSize > 0) tunable.maxHeaderSize = maxHeaderSize;
  return new SlotKeeper({
    limits: {
      headerMs,
      bodyMs: config.clientBodyTimeout * 1000,
      sendMs: config.sendTimeout * 1000,
    },
    maxConnections: config.workerConnections,
    answerBodyTimeout: (res) => answerInstead(res, 408, 'Request Timeout\n'),
    logger,
  });
}
