// HTTP/2 router baseline: the least a Node HTTP/2-to-HTTP/1.1 proxy can be: Node's http2 compat
// server in front (h2-serve.mjs), one undici Pool to a bare Node upstream (as undici.mjs): no
// pseudo-header to the upstream, :authority as its Host, no hop-by-hop header on h2 responses.
import { serveH2 } from './h2-serve.mjs';
import { undiciHandler } from './undici-stream.mjs';
import { proxyInFront } from './upstream.mjs';

const HOP = ['connection', 'keep-alive', 'transfer-encoding'];

proxyInFront(
  new URL(import.meta.url),
  (socketPath) =>
    undiciHandler(
      socketPath,
      (req) => {
        const headers = {};
        for (const [k, v] of Object.entries(req.headers)) if (k[0] !== ':') headers[k] = v;
        headers.host ??= req.headers[':authority'];
        for (const h of HOP) delete headers[h];
        return headers;
      },
      HOP,
    ),
  serveH2,
);
