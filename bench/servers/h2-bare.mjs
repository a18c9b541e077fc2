// HTTP/2 baseline: the event-queue handler on Node's http2 compat API in one bare process.
import { createApp } from '../../examples/event-queue/app.js';
import { serveH2 } from './h2-serve.mjs';

serveH2(createApp());
