import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { clientLoop, freePort, getJson, request, waitFor200 } from '../helpers/http.js';
import { fixture, killAll, killGroup, Tsgun } from '../helpers/tsgun.js';

const spawned: ChildProcess[] = [];
after(() => {
  for (const c of spawned) killGroup(c);
  killAll();
});

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const tmp = () => mkdtempSync(join(tmpdir(), 'tsgun-'));

function start(cmd: string, args: string[]): ChildProcess {
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', 'ignore', 'inherit'] });
  spawned.push(child);
  return child;
}

/** nginx in the foreground on 127.0.0.1:port with one upstream block, its files under dir. */
function startNginx(dir: string, port: number, upstream: string): string {
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((k) => `${k}_temp_path ${dir}/${k};`)
    .join(' ');
  writeFileSync(
    join(dir, 'nginx.conf'),
    `daemon off; worker_processes 1; user root; pid ${dir}/nginx.pid; error_log ${dir}/error.log;
events { worker_connections 1024; }
http {
  access_log off; ${temp}
  upstream app { ${upstream} keepalive 16; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; proxy_next_upstream error timeout;
    }
  }
}
`,
  );
  start('nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir]);
  return `http://127.0.0.1:${port}`;
}

describe('behind nginx', {
  skip: !has('nginx') && 'nginx is not installed (.ci/run installs it)',
}, () => {
  it('serves through nginx over a unix socket, and 10 HUP reloads under load lose nothing', async () => {
    const dir = tmp();
    const sock = join(dir, 'app.sock');
    const t = new Tsgun([fixture('app.mjs'), '-b', `unix:${sock}`, '-w', '2']);
    await t.waitForReady(2);
    const url = startNginx(dir, await freePort(), `server unix:${sock};`);
    await waitFor200(url);
    const reply = await getJson<{ pid: number }>(url);
    assert.ok(t.liveWorkerPids().includes(reply.pid), 'a tsgun worker answered through nginx');

    const load = clientLoop(url, { concurrency: 4 });
    for (let i = 0; i < 10; i++) {
      await t.reload(20_000);
    }
    const stats = await load.stop();
    process.stdout.write(
      `# nginx, 10 HUP reloads: sent ${stats.sent}, ok ${stats.ok}, failed ${stats.failed}\n`,
    );
    assert.equal(stats.failed, 0, stats.errors.slice(0, 3).join(', '));
    assert.ok(stats.ok > 100);
    t.kill();
  });
});

describe('two instances behind nginx', {
  skip: !has('nginx') && 'nginx is not installed (.ci/run installs it)',
}, () => {
  it('a rolling deploy with TERM + --shutdown-delay loses nothing (nginx retries a refused upstream)', async () => {
    const dir = tmp();
    const [appA, appB, front] = await Promise.all(Array.from({ length: 3 }, freePort));
    const instance = (port: number) =>
      new Tsgun([fixture('app.mjs'), '-b', `127.0.0.1:${port}`, '--shutdown-delay', '1']);
    const running = { a: instance(appA!), b: instance(appB!) };
    await Promise.all([running.a.waitForReady(1), running.b.waitForReady(1)]);
    // max_fails=0: nginx OSS has no active health check; with passive marking, a peer marked failed
    // while the other one restarts leaves "no live upstreams" (502s). Retrying a refused peer is enough.
    const url = startNginx(
      dir,
      front!,
      `server 127.0.0.1:${appA} max_fails=0; server 127.0.0.1:${appB} max_fails=0;`,
    );
    await waitFor200(url);
    const load = clientLoop(url, { concurrency: 4 });
    for (const name of ['a', 'b'] as const) {
      running[name].signal('SIGTERM');
      assert.equal((await running[name].exited).code, 0);
      running[name] = instance(name === 'a' ? appA! : appB!);
      await running[name].waitForReady(1);
    }
    const stats = await load.stop();
    process.stdout.write(
      `# nginx rolling deploy: sent ${stats.sent}, ok ${stats.ok}, failed ${stats.failed}\n`,
    );
    assert.equal(stats.failed, 0, stats.errors.slice(0, 3).join(', '));
    assert.ok(stats.ok > 100);
    running.a.kill();
    running.b.kill();
  });
});

describe('behind HAProxy', {
  skip: !has('haproxy') && 'haproxy is not installed (.ci/run installs it)',
}, () => {
  it('a rolling deploy of two instances with TERM + --shutdown-delay loses nothing', async () => {
    const dir = tmp();
    const [appA, appB, statsA, statsB, front, admin] = await Promise.all(
      Array.from({ length: 6 }, freePort),
    );
    const instance = (port: number, stats: number) =>
      new Tsgun([
        fixture('app.mjs'),
        '-b',
        `127.0.0.1:${port}`,
        '--stats',
        `127.0.0.1:${stats}`,
        '--shutdown-delay',
        '2',
      ]);
    let a = instance(appA!, statsA!);
    let b = instance(appB!, statsB!);
    await Promise.all([a.waitForReady(1), b.waitForReady(1)]);
    writeFileSync(
      join(dir, 'haproxy.cfg'),
      `global
  maxconn 2048
defaults
  mode http
  timeout connect 2s
  timeout client 10s
  timeout server 10s
  option http-keep-alive
  retries 2
  option redispatch
frontend web
  bind 127.0.0.1:${front}
  default_backend app
backend app
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
  server a 127.0.0.1:${appA} check port ${statsA} inter 300ms fall 1 rise 2
  server b 127.0.0.1:${appB} check port ${statsB} inter 300ms fall 1 rise 2
listen admin
  bind 127.0.0.1:${admin}
  stats enable
  stats uri /stats
`,
    );
    start('haproxy', ['-f', join(dir, 'haproxy.cfg'), '-db']);
    const url = `http://127.0.0.1:${front}`;
    await waitFor200(url);
    /** HAProxy's own view: wait until a server is UP again (its CSV stats; no event to wait on). */
    const serverUp = async (name: string) => {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const csv = (await request(`http://127.0.0.1:${admin}/stats;csv`)).body;
        if (csv.split('\n').some((l) => l.startsWith(`app,${name},`) && l.split(',')[17] === 'UP'))
          return;
        if (Date.now() > deadline) throw new Error(`haproxy never saw ${name} UP`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await Promise.all([serverUp('a'), serverUp('b')]);

    const load = clientLoop(url, { concurrency: 4 });
    for (const name of ['a', 'b'] as const) {
      const old = name === 'a' ? a : b;
      old.signal('SIGTERM');
      assert.equal((await old.exited).code, 0);
      const next = name === 'a' ? instance(appA!, statsA!) : instance(appB!, statsB!);
      await next.waitForReady(1);
      if (name === 'a') a = next;
      else b = next;
      await serverUp(name);
    }
    const stats = await load.stop();
    process.stdout.write(
      `# haproxy rolling deploy: sent ${stats.sent}, ok ${stats.ok}, failed ${stats.failed}\n`,
    );
    assert.equal(stats.failed, 0, stats.errors.slice(0, 3).join(', '));
    assert.ok(stats.ok > 100);
    a.kill();
    b.kill();
  });
});

describe('-w auto under a CPU quota', () => {
  const group = `/sys/fs/cgroup/cpu/tsgun-test-${process.pid}`;
  let made = false;
  try {
    mkdirSync(group);
    writeFileSync(`${group}/cpu.cfs_quota_us`, '100000'); // 1 CPU per 100 ms period
    made = true;
  } catch {
    // No writable cgroup v1 cpu controller here (not root, or cgroup v2 only).
  }
  after(() => {
    try {
      if (made) rmdirSync(group);
    } catch {
      // Still has a process for a moment; the OS removes empty groups on reboot anyway.
    }
  });

  it('gets one worker from a 1-CPU cgroup quota', {
    skip: !made && 'cannot create a cgroup v1 cpu group here',
  }, async () => {
    // The shell moves itself into the group, then becomes tsgun: the master starts inside it.
    const t = new Tsgun([fixture('app.mjs'), '-b', '127.0.0.1:0', '-w', 'auto'], {
      shellPrefix: `echo $$ > ${group}/cgroup.procs && exec`,
    });
    const line = await t.waitForLog((l) => l.msg.startsWith('-w auto:'));
    assert.equal(line['workers'], 1);
    assert.match(String(line['how']), /cgroup v1 cfs quota 100000\/100000/);
    await t.waitForReady(1);
    t.kill();
  });
});
