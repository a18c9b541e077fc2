import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { request } from '../helpers/http.js';
import { killAll, killGroup, ROOT, Tsgun } from '../helpers/tsgun.js';

after(killAll);

const APP = `${ROOT}examples/event-queue/app.js`;

describe('the event-queue example under tsgun', () => {
  let url = '';
  before(async () => {
    const t = new Tsgun([APP, '-b', '127.0.0.1:0']);
    await t.waitForReady(1);
    url = await t.url();
  });

  const json = async (path: string, opts: Parameters<typeof request>[1] = {}) => {
    const r = await request(`${url}${path}`, opts);
    return {
      status: r.status,
      type: r.headers['content-type'],
      body: r.body ? (JSON.parse(r.body) as unknown) : null,
    };
  };

  it('serves the primed bench channel: ~1 KB of JSON events', async () => {
    const r = await request(`${url}/v1/channels/bench/events`);
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.ok(r.body.length > 900 && r.body.length < 1200, `${r.body.length} bytes`);
    const events = JSON.parse(r.body) as { id: number }[];
    assert.deepEqual(
      events.map((e) => e.id),
      [1, 2, 3, 4, 5, 6, 7, 8],
    );
  });

  it('accepts an event object or an array, and lists them with since and limit', async () => {
    assert.deepEqual(
      await json('/v1/channels/orders/events', { method: 'POST', body: '{"n":1}' }),
      {
        status: 201,
        type: 'application/json',
        body: { ids: [1] },
      },
    );
    const posted = await json('/v1/channels/orders/events', {
      method: 'POST',
      body: '[{"n":2},{"n":3}]',
    });
    assert.deepEqual(posted.body, { ids: [2, 3] });
    const all = await json('/v1/channels/orders/events');
    assert.deepEqual(all.body, [
      { id: 1, data: { n: 1 } },
      { id: 2, data: { n: 2 } },
      { id: 3, data: { n: 3 } },
    ]);
    const page = await json('/v1/channels/orders/events?since=1&limit=1');
    assert.deepEqual(page.body, [{ id: 2, data: { n: 2 } }]);
  });

  it('answers [] for an empty or unknown channel', async () => {
    assert.deepEqual(await json('/v1/channels/nothing-here/events'), {
      status: 200,
      type: 'application/json',
      body: [],
    });
  });

  it('rejects bad input with a JSON error: 400, 413, 404, 405', async () => {
    const bad = async (
      path: string,
      opts: Parameters<typeof request>[1],
      status: number,
      code: string,
    ) => {
      const r = await json(path, opts);
      assert.equal(r.status, status, `${path} ${JSON.stringify(opts)}`);
      assert.equal((r.body as { error: { code: string } }).error.code, code);
    };
    await bad('/v1/channels/x/events', { method: 'POST', body: '{not json' }, 400, 'invalid_json');
    await bad('/v1/channels/x/events', { method: 'POST', body: '[]' }, 400, 'invalid_events');
    await bad('/v1/channels/x/events', { method: 'POST', body: '[1, 2]' }, 400, 'invalid_events');
    await bad('/v1/channels/x/events?limit=0', {}, 400, 'invalid_query');
    await bad('/v1/channels/x/events?since=-1', {}, 400, 'invalid_query');
    await bad(
      '/v1/channels/x/events',
      { method: 'POST', body: `{"big":"${'x'.repeat(70_000)}"}` },
      413,
      'too_large',
    );
    await bad('/v1/nope', {}, 404, 'not_found');
    await bad('/v1/channels/x/events', { method: 'DELETE' }, 405, 'method_not_allowed');
  });

  it('has a health check', async () => {
    assert.deepEqual((await json('/v1/health')).body, { status: 'ok' });
  });
});

describe('the event-queue example alone', () => {
  it('runs with plain node on $PORT', async () => {
    const child = spawn(process.execPath, [APP], {
      env: { ...process.env, PORT: '0' },
      detached: true,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      child.stdout!.setEncoding('utf8');
      const [line] = (await once(child.stdout!, 'data')) as [string];
      const address = /^event-queue on (http:\/\/127\.0\.0\.1:\d+)/.exec(line)?.[1];
      assert.ok(address, line);
      assert.equal((await request(`${address}/v1/health`)).status, 200);
    } finally {
      killGroup(child);
    }
  });
});
