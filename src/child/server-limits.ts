import type { Server as HttpServer } from 'node:http';
import type { Logger } from '../log/logger.js';
import { answerInstead } from './refuse.js';
import { maxHeaderSizeFor, type RequestLimits } from './request-limits.js';
import { SlotKeeper } from './slots.js';

export { maxHeaderSizeFor, NODE_HEADER_CAP } from './request-limits.js';

/** The slow-client settings (child/ does not read the config module). */
export interface SlowClientLimits extends Omit<RequestLimits, 'limitRequestFields'> {
  readonly headerTimeout: number;
  readonly clientBodyTimeout: number;
  readonly sendTimeout: number;
}

/**
 * Set the http.Server's slow-client limits (the app's own server too: Node reads these properties
 * per connection) and make the keeper that guards the connection slots: a worker's, or the
 * router's (its client connections, with no slot limit of their own).
 */
export function applyServerLimits(
  server: HttpServer,
  config: SlowClientLimits,
  maxConnections: number,
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
    maxConnections,
    answerBodyTimeout: (res) => answerInstead(res, 408, 'Request Timeout\n'),
    logger,
  });
}
