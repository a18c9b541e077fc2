// What every minimal proxy of the bench shares: a bare Node process serving the event-queue
// handler on an abstract unix socket (Linux: nothing is left behind when the bench SIGKILLs the
// group), and the public server in front of it, started once the upstream is listening.
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import { createApp } from '../../examples/event-queue/app.js';

/**
 * Run as the upstream when forked; otherwise fork it and serve `makeHandler(socketPath)` on $PORT.
 * `script` is the proxy's own module URL (the upstream is a fork of it); `serve`, if given, serves
 * the handler on $PORT instead of a plain HTTP/1.1 server.
 */
export function proxyInFront(script, makeHandler, serve = null) {
  if (process.argv[2] === 'upstream') {
    // A NUL cannot cross argv: the name comes without it.
    createServer(createApp()).listen(`\0${process.argv[3]}`, () => process.send?.('ready'));
    return;
  }
  const name = `tsgun-bench-proxy-${process.pid}`;
  const upstream = fork(script, ['upstream', name]);
  upstream.once('message', () => {
    // `serve`: a front of its own (the HTTP/2 baseline), given the handler.
    if (serve) {
      serve(makeHandler(`\0${name}`));
      return;
    }
    const port = Number(process.env.PORT);
    createServer(makeHandler(`\0${name}`)).listen(
      { port, host: '127.0.0.1', backlog: 1000 },
      () => {
        process.stdout.write(`ready ${port}\n`);
      },
    );
  });
}
