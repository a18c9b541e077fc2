// Baseline for router mode: the least a Node router can be. A bare Node process serves the
// event-queue handler on a unix socket; a second one proxies to it with http-proxy-3 over a
// keep-alive agent, nothing else (no balancing, no headers, no retry, no stats).
import { Agent } from 'node:http';
import { ProxyServer } from 'http-proxy-3';
import { proxyInFront } from './upstream.mjs';

proxyInFront(new URL(import.meta.url), (socketPath) => {
  const proxy = new ProxyServer({});
  const agent = new Agent({ keepAlive: true });
  const target = { socketPath, host: 'localhost', port: 80 };
  return (req, res) =>
    proxy.web(req, res, { target, agent }, () => {
      res.statusCode = 502;
      res.end();
    });
});
