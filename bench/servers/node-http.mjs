// A router candidate: plain http.request over a keep-alive http.Agent, piping the request and
// the response, in front of a bare Node process on a unix socket; nothing else (as proxy3.mjs).
import { Agent, request } from 'node:http';
import { proxyInFront } from './upstream.mjs';

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade'];

proxyInFront(new URL(import.meta.url), (socketPath) => {
  const agent = new Agent({ keepAlive: true });
  return (req, res) => {
    const headers = { ...req.headers };
    for (const h of HOP_BY_HOP) delete headers[h];
    const upstream = request({ socketPath, agent, method: req.method, path: req.url, headers });
    upstream.on('response', (up) => {
      for (const h of HOP_BY_HOP) delete up.headers[h];
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => {
      if (!res.headersSent) res.statusCode = 502;
      res.end();
    });
    req.pipe(upstream);
  };
});
