import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { control, controlMasters, statusOf } from '../helpers/control.js';
import {
  fixture,
  isAlive,
  NOBODY,
  plainLines,
  runTsgun,
  startApp,
  type Tsgun,
} from '../helpers/tsgun.js';

/**
 * `tsgun status|reload|scale|stop` against a real master over its control socket, and the
 * control sockets refused (control-lookup.test.ts: finding the master, and the process titles).
 */

const { dir, master } = controlMasters();

describe('control commands against a running master', () => {
  let m: { t: Tsgun; pidfile: string };
  before(async () => {
    m = await master(2);
  });

  it('the control socket sits beside the pidfile, mode 0600, owned by the master user', () => {
    const ctl = m.pidfile.replace(/\.pid$/, '.ctl');
    const st = lstatSync(ctl);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(st.uid, process.getuid!());
  });

  it('status prints the workers as a table and as JSON (index, pid, state, requests, RSS, age)', async () => {
    const url = await m.t.url();
    for (let i = 0; i < 4; i++) await fetch(url).then((r) => r.text());
    const table = await control('status', '-p', m.pidfile);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trim().split('\n');
    assert.match(lines[0]!, new RegExp(`app {2}master ${m.t.pid} .* workers 2/2$`));
    assert.match(lines[1]!, /^INDEX +PID STATE +GEN +REQUESTS +RSS MiB +AGE$/);
    assert.equal(lines.length, 4);
    // Requests arrive with the workers' next heartbeat: poll the JSON until all 4 are counted.
    let s = await statusOf(m.pidfile);
    for (let deadline = Date.now() + 5000; Date.now() < deadline; s = await statusOf(m.pidfile)) {
      if (s.workers.reduce((n, w) => n + w.requests, 0) === 4) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(s.pid, m.t.pid);
    assert.equal(s.name, 'app');
    assert.equal(s.targetWorkers, 2);
    assert.deepEqual(
      s.workers.map((w) => w.index),
      [0, 1],
    );
    assert.deepEqual(s.workers.map((w) => w.pid).sort(), m.t.liveWorkerPids().sort());
    assert.equal(
      s.workers.reduce((n, w) => n + w.requests, 0),
      4,
    );
    for (const w of s.workers) {
      assert.equal(w.state, 'ready');
      assert.ok(w.rssBytes > 10 * 1024 * 1024, `rss ${w.rssBytes}`);
      assert.ok(w.ageSeconds >= 0);
    }
  });

  it('scale N adds and removes workers, and waits until the count is reached', async () => {
    const up = await control('scale', '3', '-p', m.pidfile);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /^scaled: master \d+, 3 worker\(s\)/);
    let s = await statusOf(m.pidfile);
    assert.equal(s.workers.filter((w) => w.state === 'ready').length, 3);
    const down = await control('scale', '1', '-p', m.pidfile);
    assert.equal(down.code, 0, down.stderr);
    s = await statusOf(m.pidfile);
    assert.equal(s.targetWorkers, 1);
    assert.equal(s.workers.filter((w) => w.state !== 'closing').length, 1);
    assert.ok(m.t.logs.some((l) => l.msg === 'scale: 3 worker(s)'));
    const queued = await control('scale', '2', '--no-wait', '-p', m.pidfile);
    assert.equal(queued.stdout, `scale: queued by master ${m.t.pid}\n`);
    await m.t.waitForLog((l) => l.msg === 'scale: 2 worker(s)');
  });

  it('reload replaces every worker (new pids, next generation), keeps the count scale set, and waits', async () => {
    assert.equal((await control('scale', '3', '-p', m.pidfile)).code, 0);
    const before = await statusOf(m.pidfile);
    const r = await control('reload', '-p', m.pidfile);
    assert.equal(r.code, 0, r.stderr);
    const s = await statusOf(m.pidfile);
    const live = s.workers.filter((w) => w.state !== 'closing');
    // PM2's rule: an operator's scale survives a deploy (the config's workers did not change).
    assert.equal(s.targetWorkers, 3);
    assert.equal(live.length, 3);
    const old = new Set(before.workers.map((w) => w.pid));
    for (const w of live) {
      assert.ok(!old.has(w.pid), `worker ${w.pid} was not replaced`);
      assert.ok(w.generation > Math.max(...before.workers.map((x) => x.generation)));
      assert.equal(w.state, 'ready');
    }
    assert.ok(m.t.logs.some((l) => l.msg === 'handling signal SIGHUP'));
    assert.ok(
      m.t.logs.some((l) => /^reload: keeping the 3 worker\(s\) an operator set/.test(l.msg)),
    );
    assert.equal((await control('scale', '2', '-p', m.pidfile)).code, 0);
  });

  it('scale N is validated like --workers, before any master is asked', async () => {
    for (const bad of ['0', 'many', '-1']) {
      const r = await control('scale', bad, '-p', m.pidfile);
      assert.equal(r.code, 2);
      assert.deepEqual(plainLines(r.stderr).length, 1);
      assert.match(
        r.stderr,
        new RegExp(`tsgun scale: N: .*${bad.replace('-', '\\-')}.*\\[TSGUN_ERR_CONFIG_INVALID\\]`),
      );
    }
    const none = await control('status');
    assert.equal(none.code, 2);
    assert.match(none.stderr, /give -p\/--pid FILE or --control-socket PATH/);
  });

  it('scale past 1024 workers: the client refuses it, and so does the master asked directly', async () => {
    const r = await control('scale', '1025', '-p', m.pidfile);
    assert.equal(r.code, 2, r.stderr);
    assert.deepEqual(plainLines(r.stderr), [
      'tsgun: error: tsgun scale: N: expected an integer between 1 and 1024, got 1025 [TSGUN_ERR_CONFIG_INVALID]',
    ]);
    // A client that skips the check gets the error as the master's answer; nothing changes.
    const socket = createConnection(m.pidfile.replace(/\.pid$/, '.ctl'));
    socket.end(`${JSON.stringify({ tsgun: 1, cmd: 'scale', workers: 100_000 })}\n`);
    let answer = '';
    for await (const chunk of socket) answer += String(chunk);
    assert.deepEqual(JSON.parse(answer), {
      tsgun: 1,
      ok: false,
      pid: m.t.pid,
      error: 'scale: workers must be an integer between 1 and 1024 or "auto", got 100000',
    });
    assert.equal((await statusOf(m.pidfile)).targetWorkers, 2);
  });

  it('a control socket owned by another user is refused before connecting', async () => {
    const ctl = m.pidfile.replace(/\.pid$/, '.ctl');
    const mark = m.t.logs.length;
    chownSync(ctl, NOBODY, NOBODY);
    try {
      const r = await control('stop', '-p', m.pidfile);
      assert.equal(r.code, 2);
      assert.match(
        r.stderr,
        new RegExp(`belongs to uid ${NOBODY}, not to this user .*\\[TSGUN_ERR_CONTROL_SOCKET\\]`),
      );
      const direct = await control('status', '--control-socket', ctl);
      assert.equal(direct.code, 2);
    } finally {
      chownSync(ctl, process.getuid!(), process.getgid!());
    }
    assert.ok(isAlive(m.t.pid));
    assert.ok(!m.t.logs.slice(mark).some((l) => String(l.msg).startsWith('control:')));
  });

  it('stop is graceful, waits for the exit, and the master removes pidfile and socket', async () => {
    const r = await control('stop', '-p', m.pidfile);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `stopped: master ${m.t.pid}\n`);
    assert.deepEqual(await m.t.exited, { code: 0, signal: null });
    assert.ok(m.t.logs.some((l) => l.msg === 'stopping gracefully'));
    assert.ok(!existsSync(m.pidfile));
    assert.ok(!existsSync(m.pidfile.replace(/\.pid$/, '.ctl')));
    // Nobody answers now: one line, exit 5.
    const gone = await control('status', '-p', m.pidfile);
    assert.equal(gone.code, 5);
    assert.match(gone.stderr, /no pidfile at .*\[TSGUN_ERR_NO_MASTER\]/);
  });
});

describe('stop --quick, --control-socket, --name', () => {
  it('stop --quick stops now (QUIT) with exit 0', async () => {
    const ctl = join(dir, 'quick.sock');
    const t = startApp('-w', '2', '--control-socket', ctl, '--name', 'shop');
    await t.waitForReady(2);
    const r = await control('stop', '--quick', '--control-socket', ctl);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await t.exited, { code: 0, signal: null });
    assert.ok(t.logs.some((l) => l.msg === 'stopping now'));
    assert.ok(
      t.logs.every((l) => l.name === 'shop'),
      'every log line carries the name',
    );
    assert.ok(!existsSync(ctl));
  });

  it('a second master on the same control socket is refused with one line, the first unharmed', async () => {
    const ctl = join(dir, 'shared.sock');
    const first = startApp('--control-socket', ctl);
    await first.waitForReady(1);
    const second = await runTsgun([
      fixture('app.mjs'),
      '-b',
      '127.0.0.1:0',
      '--control-socket',
      ctl,
    ]);
    assert.equal(second.code, 2);
    assert.match(
      second.stderr,
      /^tsgun: error: --control-socket: address already in use: .*shared\.sock \[TSGUN_ERR_CONTROL_SOCKET\]$/m,
    );
    const s = await control('status', '--control-socket', ctl, '--json');
    assert.equal(JSON.parse(s.stdout).pid, first.pid);
    first.kill();
  });

  it('a control socket in a directory every user may write is refused', async () => {
    const open = join(dir, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const r = await runTsgun([
      fixture('app.mjs'),
      '-b',
      '127.0.0.1:0',
      '--control-socket',
      join(open, 'c.sock'),
    ]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /writable by every user and not sticky.*\[TSGUN_ERR_CONTROL_SOCKET\]/);
    // A symlink planted at the path is neither followed nor replaced.
    const target = join(dir, 'victim');
    writeFileSync(target, 'keep');
    const planted = join(dir, 'planted.sock');
    symlinkSync(target, planted);
    const l = await runTsgun([
      fixture('app.mjs'),
      '-b',
      '127.0.0.1:0',
      '--control-socket',
      planted,
    ]);
    assert.equal(l.code, 2);
    assert.match(
      l.stderr,
      /--control-socket: not a socket, refusing to replace it: .*planted\.sock/,
    );
    assert.ok(lstatSync(planted).isSymbolicLink());
    assert.equal(readFileSync(target, 'utf8'), 'keep');
  });
});
