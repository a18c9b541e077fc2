import assert from 'node:assert/strict';
import type { RequestListener } from 'node:http';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { h2DirectRefusal, h2FormOf, isExpressApp } from '../../src/worker/h2-direct.js';

// The frameworks the fixtures use (without type packages for Express and Koa).
const require = createRequire(import.meta.url);
const express = require('express') as () => RequestListener;
const Koa = require('koa') as new () => { callback(): RequestListener };
const Fastify = require('fastify') as () => FastifyInstance;

describe('--http2 in direct mode: which app forms', () => {
  const plain = (_req: unknown, res: { end(): void }) => res.end();

  it('takes a plain listener, Koa callback(), a fetch app and an http.Server', () => {
    assert.equal(h2FormOf({ kind: 'listener', listener: plain as never }).kind, 'fine');
    assert.equal(h2FormOf({ kind: 'listener', listener: new Koa().callback() }).kind, 'fine');
    assert.equal(h2FormOf({ kind: 'fetch', app: { fetch: () => new Response('') } }).kind, 'fine');
    assert.equal(h2FormOf({ kind: 'server', server: createServer(plain as never) }).kind, 'fine');
  });

  it('knows Express as a listener and behind its own http.Server (app.listen)', () => {
    const app = express();
    assert.ok(isExpressApp(app));
    assert.equal(h2FormOf({ kind: 'listener', listener: app }).kind, 'express');
    assert.equal(h2FormOf({ kind: 'server', server: createServer(app) }).kind, 'express');
    // Connect-style: a function with use() and handle(), without Express's set() and engine().
    const connectLike = Object.assign(plain, { use() {}, handle() {} });
    assert.equal(isExpressApp(connectLike), false);
  });

  it("knows Fastify's server by its request listener", async () => {
    const fastify = Fastify();
    await fastify.ready();
    assert.equal(h2FormOf({ kind: 'server', server: fastify.server }).kind, 'fastify');
    await fastify.close();
  });

  it('refuses in one line naming --http2, the form and --router', () => {
    assert.equal(h2DirectRefusal({ kind: 'fine', form: 'a request listener' }), null);
    const line = h2DirectRefusal({ kind: 'express', form: 'an Express app' });
    assert.match(line ?? '', /^--http2: an Express app cannot run on .*--router/);
    assert.doesNotMatch(line ?? '', /\n/);
    assert.match(
      h2DirectRefusal({ kind: 'fastify', form: 'a Fastify instance' }) ?? '',
      /Fastify.*--router/,
    );
  });
});
