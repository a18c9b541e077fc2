// What the HTTP/2 baselines share: one port that serves h2c (prior knowledge) to a client that
// opens with the HTTP/2 preface and HTTP/1.1 to any other (the bench's first-200 probe), as
// tsgun --router --http2 does, on Node's http2 compatibility API.
import { createServer as createHttp1 } from 'node:http';
import { createServer as createHttp2 } from 'node:http2';
import { createServer as createNet } from 'node:net';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export function serveH2(handler) {
  const h1 = createHttp1(handler);
  const h2 = createHttp2({ settings: { maxConcurrentStreams: 100 } }, handler);
  const port = Number(process.env.PORT);
  createNet((socket) => {
    let got = Buffer.alloc(0);
    const onData = (chunk) => {
      got = Buffer.concat([got, chunk]);
      const n = Math.min(got.length, PREFACE.length);
      const differs = got.compare(PREFACE, 0, n, 0, n) !== 0;
      if (!differs && n < PREFACE.length) return;
      socket.off('data', onData);
      socket.pause();
      socket.unshift(got);
      (differs ? h1 : h2).emit('connection', socket);
      if (differs) socket.resume();
    };
    socket.on('data', onData);
  }).listen({ port, host: '127.0.0.1', backlog: 1000 }, () => {
    process.stdout.write(`ready ${port}\n`);
  });
}
