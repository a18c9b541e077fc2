// Baseline: the event-queue handler in one bare Node process (no supervisor), the ceiling for tsgun.
import { createServer } from 'node:http';
import { createApp } from '../../examples/event-queue/app.js';

const port = Number(process.env.PORT);
createServer(createApp()).listen({ port, host: '127.0.0.1', backlog: 1000 }, () => {
  process.stdout.write(`ready ${port}\n`);
});
