// PM2 cluster mode (`pm2-runtime start pm2-app.cjs -i 1`): PM2 runs this in a cluster worker and
// its primary accepts every connection (round-robin), as Node's cluster does.
const { createServer } = require('node:http');

import('../../examples/event-queue/app.js').then(({ createApp }) => {
  createServer(createApp()).listen({
    port: Number(process.env.PORT),
    host: '127.0.0.1',
    backlog: 1000,
  });
});
