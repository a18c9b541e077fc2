// Baseline for router mode: the least a Node router can be, on undici (Node's own HTTP client).
// A bare Node process serves the event-queue handler on a unix socket; a second one proxies to
// it with one undici Pool and Pool.stream, nothing else (no balancing, no retry, no stats; only
// the hop-by-hop headers undici refuses to send are dropped).
import { Pool } from 'undici';
import { proxyInFront } from './upstream.mjs';

proxyInFront(new URL(import.meta.url), (socketPath) => {
  const pool = new Pool('http://localhost', { connect: { socketPath } });
  return (req, res) => {
    const headers = { ...req.headers };
    delete headers.connection;
    delete headers['keep-alive'];
    const bodiless = req.method === 'GET' || req.method === 'HEAD';
    pool.stream(
      { path: req.url, method: req.method, headers, body: bodiless ? null : req },
      ({ statusCode, headers: upstreamHeaders }) => {
        delete upstreamHeaders.connection;
        delete upstreamHeaders['keep-alive'];
        res.writeHead(statusCode, upstreamHeaders);
        return res;
      },
      (err) => {
        if (err && !res.headersSent) {
          res.statusCode = 502;
          res.end();
        }
      },
    );
  };
});
