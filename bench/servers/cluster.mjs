// Node's cluster with one worker in its default round-robin mode: the primary accepts every
// connection and hands it to the worker over IPC (PM2's cluster mode is built on this).
import cluster from 'node:cluster';
import { createServer } from 'node:http';
import { createApp } from '../../examples/event-queue/app.js';

const port = Number(process.env.PORT);
if (cluster.isPrimary) {
  cluster.schedulingPolicy = cluster.SCHED_RR;
  cluster.fork().on('listening', () => process.stdout.write(`ready ${port}\n`));
} else {
  createServer(createApp()).listen({ port, host: '127.0.0.1', backlog: 1000 });
}
