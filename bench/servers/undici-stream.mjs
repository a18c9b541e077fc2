// What the undici baselines share: one undici Pool to the upstream's socket and Pool.stream, with
// the request headers each baseline passes on (`headersOf`) and the hop-by-hop response headers
// undici gives back (`dropped`) taken out.
import { Pool } from 'undici';

export function undiciHandler(socketPath, headersOf, dropped) {
  const pool = new Pool('http://localhost', { connect: { socketPath } });
  return (req, res) => {
    const bodiless = req.method === 'GET' || req.method === 'HEAD';
    pool.stream(
      { path: req.url, method: req.method, headers: headersOf(req), body: bodiless ? null : req },
      ({ statusCode, headers: upstreamHeaders }) => {
        for (const h of dropped) delete upstreamHeaders[h];
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
}
