// Baseline for router mode: the least a Node router can be, on undici (Node's own HTTP client).
// A bare Node process serves the event-queue handler on a unix socket; a second one proxies to
// it with one undici Pool and Pool.stream, nothing else (no balancing, no retry, no stats; only
// the hop-by-hop headers undici refuses to send are dropped).
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import { Pool } from 'undici';
import { createApp } from '../../examples/event-queue/app.js';

if (process.argv[2] === 'upstream') {
  createServer(createApp()).listen(`\0${process.argv[3]}`, () => process.send?.('ready'));
} else {
  // An abstract unix socket (Linux): nothing is left behind when the bench SIGKILLs the group.
  const name = `tsgun-bench-undici-${process.pid}`;
  const upstream = fork(new URL(import.meta.url), ['upstream', name]);
  upstream.once('message', () => {
    const pool = new Pool('http://localhost', { connect: { socketPath: `\0${name}` } });
    const port = Number(process.env.PORT);
    createServer((req, res) => {
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
    }).listen({ port, host: '127.0.0.1', backlog: 1000 }, () => {
      process.stdout.write(`ready ${port}\n`);
    });
  });
}
