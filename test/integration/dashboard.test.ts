import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { after, describe, it } from 'node:test';
import { Browser, chromiumSkip } from '../helpers/browser.js';
import { freePort, getJson, request } from '../helpers/http.js';
import { onRecords } from '../helpers/records.js';
import {
  killAll,
  plainLines,
  runTsgun,
  startApp,
  startRouter,
  type Tsgun,
} from '../helpers/tsgun.js';

after(killAll);

interface Event {
  seq: number;
  kind: string;
  msg: string;
  workerPid?: number;
}

/** /events on a stats port, once the stats server answers (it starts before anything logs). */
async function eventsUrl(port: number): Promise<string> {
  const url = `http://127.0.0.1:${port}/events`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      if ((await request(`${url}?format=jsonl`)).status === 200) return url;
    } catch {
      // Not listening yet: no log line says so at --log-level warning.
    }
    if (Date.now() > deadline) throw new Error(`${url} never answered`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A client of /events (server-sent events): every frame read so far, and a wait on them. */
class EventStream {
  readonly frames: { id: string; event: Event }[] = [];
  private waiters: (() => void)[] = [];
  private constructor(
    readonly res: IncomingMessage,
    private readonly close: () => void,
  ) {
    onRecords(res, '\n\n', (block) => {
      const id = /^id: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (id && data) this.frames.push({ id, event: JSON.parse(data) as Event });
      for (const w of this.waiters) w();
    });
  }

  static open(url: string, lastEventId?: string): Promise<EventStream> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        url,
        { headers: lastEventId ? { 'last-event-id': lastEventId } : {}, agent: false },
        (res) => resolve(new EventStream(res, () => req.destroy())),
      );
      req.on('error', reject);
      req.end();
    });
  }

  async waitFor(
    predicate: (e: Event) => boolean,
    what: string,
  ): Promise<{ id: string; event: Event }> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const found = this.frames.find((f) => predicate(f.event));
      if (found) return found;
      if (Date.now() > deadline)
        throw new Error(`no ${what} event in ${JSON.stringify(this.frames)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      this.waiters = [];
    }
  }

  end(): void {
    this.close();
  }
}

describe('/events', () => {
  it('streams the master timeline as server-sent events, resumes after Last-Event-ID, and answers JSON lines', async () => {
    const port = await freePort();
    const t = startApp('-w', '1', '--stats', `127.0.0.1:${port}`);
    const [ready] = await t.waitForReady(1);
    const base = `http://127.0.0.1:${port}`;
    const sse = await EventStream.open(`${base}/events`);
    assert.equal(sse.res.headers['content-type'], 'text/event-stream');
    const first = await sse.waitFor(
      (e) => e.kind === 'ready' && e.workerPid === ready!['workerPid'],
      'worker ready',
    );
    assert.match(first.id, new RegExp(`^${t.pid}-\\d+$`));
    // Live: a TTIN sent while the stream is open arrives on it.
    t.signal('SIGTTIN');
    const scale = await sse.waitFor((e) => e.kind === 'scale', 'scale');
    const spawn = await sse.waitFor((e) => e.kind === 'spawn' && e.seq > scale.event.seq, 'spawn');
    sse.end();
    // Resumed after the scale event: nothing before it again.
    const resumed = await EventStream.open(`${base}/events`, scale.id);
    const next = await resumed.waitFor(() => true, 'any');
    assert.equal(next.event.seq, scale.event.seq + 1);
    assert.equal(next.id, spawn.id);
    resumed.end();

    const jsonl = await request(`${base}/events?format=jsonl`);
    assert.equal(jsonl.headers['content-type'], 'application/x-ndjson');
    const events = jsonl.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Event);
    assert.deepEqual(
      events.map((e) => e.seq),
      events.map((_, i) => i + 1),
    );
    assert.equal(events[0]!.kind, 'start');
    const after = await request(`${base}/events?format=jsonl&since=${scale.event.seq}`);
    assert.equal(JSON.parse(after.body.split('\n')[0]!).seq, scale.event.seq + 1);
    t.kill();
  });

  it('a USR2 master on the same address sends its whole timeline to a client of the old one', async () => {
    const port = await freePort();
    const t = startApp('-w', '1', '--stats', `127.0.0.1:${port}`);
    await t.waitForReady(1);
    const old = await EventStream.open(`http://127.0.0.1:${port}/events`);
    const seen = await old.waitFor((e) => e.kind === 'ready', 'worker ready');
    const newMaster = await t.upgrade(1);
    t.signal('SIGTERM');
    await t.exited;
    // The old master's stream ends with it; the client comes back with its last id.
    const resumed = await EventStream.open(`http://127.0.0.1:${port}/events`, seen.id);
    const first = await resumed.waitFor(() => true, 'any');
    assert.equal(first.id, `${newMaster}-1`);
    assert.equal(first.event.kind, 'start');
    resumed.end();
    process.kill(newMaster, 'SIGKILL');
  });

  it('records the info events even when --log-level leaves them out of the log', async () => {
    const port = await freePort();
    const t = startApp('-w', '1', '--stats', `127.0.0.1:${port}`, '--log-level', 'warning');
    const sse = await EventStream.open(await eventsUrl(port));
    await sse.waitFor((e) => e.kind === 'ready', 'worker ready');
    sse.end();
    assert.equal(t.logs.filter((l) => l.level < 40).length, 0, t.stderrText);
    t.kill();
  });

  it('serves a bounded number of streams at once', async () => {
    const port = await freePort();
    const t = startApp('-w', '1', '--stats', `127.0.0.1:${port}`);
    await t.waitForReady(1);
    const streams = await Promise.all(
      Array.from({ length: 16 }, () => EventStream.open(`http://127.0.0.1:${port}/events`)),
    );
    assert.ok(streams.every((s) => s.res.statusCode === 200));
    const refused = await request(`http://127.0.0.1:${port}/events`);
    assert.equal(refused.status, 503);
    for (const s of streams) s.end();
    t.kill();
  });
});

describe('/dashboard', () => {
  it('is served on the stats address, under the same loopback rule as the JSON', async () => {
    const refused = await runTsgun(['app.mjs', '--stats', '0.0.0.0:9191']);
    assert.equal(refused.code, 2);
    assert.match(
      plainLines(refused.stderr)[0]!,
      /not a loopback address; add --stats-allow-remote/,
    );
    const port = await freePort();
    const t = startApp('-w', '1', '--stats', `0.0.0.0:${port}`, '--stats-allow-remote');
    await t.waitForReady(1);
    const page = await request(`http://127.0.0.1:${port}/dashboard`);
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(String(page.headers['content-security-policy']), /connect-src 'self'/);
    assert.match(page.body, /<title>tsgun dashboard<\/title>/);
    t.kill();
  });
});

/** The pids of the live workers, as / says. */
async function workerPids(statsUrl: string): Promise<number[]> {
  const doc = await getJson<{ worker: { pid: number; state: string }[] }>(`${statsUrl}/`);
  return doc.worker
    .filter((w) => w.state !== 'closing')
    .map((w) => w.pid)
    .sort();
}

const ROWS = `JSON.stringify([...document.querySelectorAll('#workers tbody tr')].map((r) => Number(r.dataset.pid)).sort())`;

/** Waits until the page lists exactly the workers / lists (the page polls each second). */
async function pageShowsWorkers(
  page: Awaited<ReturnType<Browser['open']>>,
  statsUrl: string,
  t: Tsgun,
) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const want = JSON.stringify(await workerPids(statsUrl));
    const shown = await page.evaluate<string>(ROWS);
    if (shown === want) return JSON.parse(want) as number[];
    if (Date.now() > deadline)
      throw new Error(`page shows ${shown}, / says ${want}; master ${t.pid}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('/dashboard in a browser', { skip: chromiumSkip }, () => {
  it('lists the live workers, then shows a TTIN, a reload and a new master without being reloaded', async () => {
    const port = await freePort();
    const statsUrl = `http://127.0.0.1:${port}`;
    let t = startApp('-w', '2', '--stats', `127.0.0.1:${port}`);
    await t.waitForReady(2);
    const browser = Browser.launch();
    try {
      const page = await browser.open(`${statsUrl}/dashboard`, { width: 1280, height: 900 });
      await page.waitFor("document.getElementById('conn').className === 'live'", 'live');
      const before = await pageShowsWorkers(page, statsUrl, t);
      assert.equal(before.length, 2);
      // A mark that a page load would wipe: every later check runs in this same document.
      await page.evaluate('window.tsgunTestMark = 1');

      const booted = await t.signalAndWait('SIGTTIN', (l) => l.msg === 'booting worker');
      await t.waitForLog((l) => l.msg === 'worker ready' && l['workerPid'] === booted['workerPid']);
      const scaled = await pageShowsWorkers(page, statsUrl, t);
      assert.ok(scaled.includes(booted['workerPid'] as number), 'the new worker has a row');
      await page.waitFor(
        `document.querySelector('#events li[data-kind="scale"]')`,
        'the TTIN event',
      );

      await t.reload();
      const reloaded = await pageShowsWorkers(page, statsUrl, t);
      assert.equal(reloaded.length, 3);
      assert.ok(
        reloaded.every((pid) => !scaled.includes(pid)),
        'every worker replaced',
      );
      await page.waitFor(`document.querySelector('#events li[data-kind="reload"]')`, 'reloading');
      await page.waitFor(
        `document.querySelector('#events li[data-kind="reload-done"]')`,
        'reload complete',
      );

      // The master goes away and another answers on the stats address: the page reconnects.
      t.signal('SIGTERM');
      await t.exited;
      await page.waitFor("document.getElementById('conn').className !== 'live'", 'disconnected');
      t = startApp('-w', '1', '--stats', `127.0.0.1:${port}`);
      await t.waitForReady(1);
      await page.waitFor(
        `document.getElementById('master').textContent.includes('pid${t.pid}')`,
        'the new master',
      );
      await pageShowsWorkers(page, statsUrl, t);
      await page.waitFor(
        `[...document.querySelectorAll('#events li[data-kind="start"]')].some((li) => li.textContent.includes('(${t.pid})'))`,
        "the new master's start event",
      );
      assert.equal(await page.evaluate('window.tsgunTestMark'), 1, 'the page was never reloaded');

      // A phone: no horizontal scroll.
      const phone = await browser.open(`${statsUrl}/dashboard`, {
        width: 390,
        height: 800,
        dark: true,
      });
      await phone.waitFor(
        "document.querySelectorAll('#workers tbody tr').length === 1",
        'a worker',
      );
      await phone.waitFor("document.querySelectorAll('#events li').length > 2", 'events');
      assert.ok((await phone.evaluate<number>('document.documentElement.scrollWidth')) <= 390);
      assert.deepEqual(browser.exceptions, []);
    } finally {
      await browser.close();
      t.kill();
    }
  });

  it('shows the router and its upstreams in router mode', async () => {
    const port = await freePort();
    const t = await startRouter(2, '--stats', `127.0.0.1:${port}`);
    const browser = Browser.launch();
    try {
      const page = await browser.open(`http://127.0.0.1:${port}/dashboard`, {
        width: 390,
        height: 800,
      });
      await page.waitFor(
        "!document.getElementById('router-section').hidden && document.querySelectorAll('#upstreams tbody tr').length === 2",
        'the router and two upstreams',
      );
      const routerPid = await page.evaluate<string>(
        "document.getElementById('router').textContent",
      );
      const doc = await getJson<{ router: { pid: number } }>(`http://127.0.0.1:${port}/`);
      assert.ok(routerPid.includes(`pid${doc.router.pid}`), routerPid);
      assert.ok((await page.evaluate<number>('document.documentElement.scrollWidth')) <= 390);
      assert.deepEqual(browser.exceptions, []);
    } finally {
      await browser.close();
      t.kill();
    }
  });
});
