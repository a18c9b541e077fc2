// Baseline for router mode: the least a Node router can be, on undici (Node's own HTTP client).
// A bare Node process serves the event-queue handler on a unix socket; a second one proxies to
// it with one undici Pool and Pool.stream, nothing else (no balancing, no retry, no stats; only
// the hop-by-hop headers undici refuses to send are dropped).
import { undiciHandler } from './undici-stream.mjs';
import { proxyInFront } from './upstream.mjs';

const HOP = ['connection', 'keep-alive'];

proxyInFront(new URL(import.meta.url), (socketPath) =>
  undiciHandler(
    socketPath,
    (req) => {
      const headers = { ...req.headers };
      for (const h of HOP) delete headers[h];
      return headers;
    },
    HOP,
  ),
);
