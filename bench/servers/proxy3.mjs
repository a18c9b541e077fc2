// Baseline for router mode: the least a Node router can be. A bare Node process serves the
// event-queue handler on a unix socket; a second one proxies to it with http-proxy-3 over a
// keep-alive agent, nothing else (no balancing, no headers, no retry, no stats).
import { fork } from 'node:child_process';
import { Agent, createServer } from 'node:http';
import { ProxyServer } from 'http-proxy-3';
import { createApp } from '../../examples/event-queue/app.js';

if (process.argv[2] === 'upstream') {
  const socketPath = `\0${process.argv[3]}`;
  createServer(createApp()).listen(socketPath, () => process.send?.('ready'));
} else {
  // An abstract unix socket (Linux): no file is left behind when the bench SIGKILLs the group.
  // (A NUL cannot cross argv: the name goes without it.)
  const name = `tsgun-bench-proxy3-${process.pid}`;
  const socketPath = `\0${name}`;
  const upstream = fork(new URL(import.meta.url), ['upstream', name]);
  upstream.once('message', () => {
    const proxy = new ProxyServer({});
    const agent = new Agent({ keepAlive: true });
    const target = { socketPath, host: 'localhost', port: 80 };
    const port = Number(process.env.PORT);
    createServer((req, res) =>
      proxy.web(req, res, { target, agent }, () => {
        res.statusCode = 502;
        res.end();
      }),
    ).listen({ port, host: '127.0.0.1', backlog: 1000 }, () => {
      process.stdout.write(`ready ${port}\n`);
    });
  });
}
