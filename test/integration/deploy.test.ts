import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { containerCommand, dockerfileCmd, execWords, systemdService } from '../helpers/examples.js';
import { boundTcpHandle, clientLoop, freePort, request } from '../helpers/http.js';
import { NotifySocket } from '../helpers/notify-socket.js';
import { BIN, killAll, startApp, type Tsgun, Tsgun as TsgunProcess } from '../helpers/tsgun.js';

after(killAll);

/** An app directory as the examples expect one: app.js and node_modules/.bin/tsgun. */
const scratch = mkdtempSync(join(tmpdir(), 'tsgun-deploy-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const appDir = join(scratch, 'app');
mkdirSync(join(appDir, 'node_modules/.bin'), { recursive: true });
symlinkSync(BIN, join(appDir, 'node_modules/.bin/tsgun'));
writeFileSync(
  join(appDir, 'app.js'),
  'module.exports = (req, res) => res.end(JSON.stringify({ pid: process.pid }));\n',
);

/** The words of an example's command line that start tsgun: tsgun itself, never npx or npm. */
function assertDirect(words: readonly string[], file: string): void {
  assert.match(words[0]!, /(^|\/)node_modules\/\.bin\/tsgun$/, `${file} starts tsgun itself`);
  const between = words.filter((w) => /^(npx|npm|yarn|pnpm|env|sh|bash)$|\/(npx|npm)$/.test(w));
  assert.deepEqual(between, [], `${file}: nothing between the supervisor and tsgun`);
}

/**
 * HUP (sent by `hup`) to the process the example would signal, under load: every worker is
 * replaced and no request fails.
 */
async function reloadUnderLoad(
  t: Tsgun,
  words: readonly string[],
  hup: () => Promise<unknown>,
): Promise<void> {
  // The command line's -w; -w auto logs the count it chose.
  const w = words[words.indexOf('-w') + 1]!;
  const workers =
    w === 'auto'
      ? ((await t.waitForLog((l) => l.msg.startsWith('-w auto:')))['workers'] as number)
      : Number(w);
  await t.waitForReady(workers);
  const before = new Set(t.liveWorkerPids());
  const load = clientLoop(await t.url(), { concurrency: 4 });
  const mark = t.logs.length;
  await hup();
  await t.waitForLog((l) => l.msg === 'reload complete', 30_000, mark);
  const stats = await load.stop();
  assert.equal(stats.failed, 0, `failed requests: ${stats.errors.slice(0, 5).join(', ')}`);
  assert.ok(stats.ok > 20, `too few requests to mean anything: ${stats.ok}`);
  const after = t.liveWorkerPids();
  assert.equal(after.length, workers);
  for (const pid of after) assert.ok(!before.has(pid), 'a worker survived the reload');
}

/** The example's 0.0.0.0 ports, moved to free loopback ports of this machine. */
async function onLoopback(args: readonly string[]): Promise<string[]> {
  const stats = await freePort();
  return args.map((a) =>
    a === '0.0.0.0:8000' ? '127.0.0.1:0' : a === '0.0.0.0:9191' ? `127.0.0.1:${stats}` : a,
  );
}

describe('the documented command lines deliver signals to tsgun', () => {
  it('examples/systemd: ExecStart under Type=notify with the socket unit; ExecReload reloads', async () => {
    const file = 'examples/systemd/tsgun.service';
    const unit = systemdService(file);
    assert.equal(unit['Type'], 'notify');
    assert.equal(unit['NotifyAccess'], 'all', 'systemd-notify is a child of the master');
    const words = execWords(unit['ExecStart']!);
    assertDirect(words, file);
    // systemd's paths, moved into this test's directory.
    const dir = unit['WorkingDirectory']!;
    const local = words.map((w) =>
      w
        .replace(dir, appDir)
        .replace(`/run/${unit['RuntimeDirectory']}`, join(scratch, 'run', 'tsgun')),
    );
    mkdirSync(join(scratch, 'run', 'tsgun'), { recursive: true });
    const notify = new NotifySocket();
    after(() => notify.close());
    await notify.listening;
    // tsgun.socket's socket, passed as systemd passes it: fd 3, LISTEN_FDS, LISTEN_PID = tsgun.
    const socket = boundTcpHandle();
    const t = new TsgunProcess(local.slice(1), {
      bin: local[0]!,
      cwd: appDir,
      fds: [socket.fd],
      shellPrefix: 'LISTEN_PID=$$ LISTEN_FDS=1 exec',
      env: { NOTIFY_SOCKET: notify.path },
    });
    socket.close();
    const ready = await notify.waitFor((m) => m.fields['READY'] === '1');
    assert.equal(ready.fields['MAINPID'], String(t.pid));
    // ExecReload as systemd runs it, with $MAINPID from the notification.
    const reload = execWords(unit['ExecReload']!).map((w) =>
      w === '$MAINPID' ? ready.fields['MAINPID']! : w,
    );
    const mark = notify.messages.length;
    await reloadUnderLoad(t, words, () => promisify(execFile)(reload[0]!, reload.slice(1)));
    await notify.waitFor((m) => m.fields['READY'] === '1', mark + 1);
    assert.equal(notify.messages[mark]!.fields['RELOADING'], '1');
    t.kill();
  });

  it('examples/deploy/Dockerfile: the exec-form CMD is PID 1; docker kill -s HUP reloads', async () => {
    const file = 'examples/deploy/Dockerfile';
    const { env, cmd } = dockerfileCmd(file);
    assertDirect(cmd, file);
    const t = new TsgunProcess(await onLoopback(cmd.slice(1)), {
      bin: join(appDir, cmd[0]!),
      cwd: appDir,
      env,
    });
    // `docker kill -s HUP` signals the container's PID 1: the CMD's own process.
    await reloadUnderLoad(t, cmd, async () => t.signal('SIGHUP'));
    t.kill();
  });

  it('examples/deploy/kubernetes: the container command is PID 1; kill -HUP 1 reloads', async () => {
    const file = 'examples/deploy/kubernetes/deployment.yaml';
    const { command, args } = containerCommand(file);
    const words = [...command, ...args];
    assertDirect(words, file);
    // The test app instead of the event-queue service the manifest names.
    const local = (await onLoopback(args)).map((a) => (/\.(c|m)?js$/.test(a) ? 'app.js' : a));
    const t = new TsgunProcess(local, { bin: join(appDir, command[0]!), cwd: appDir });
    await reloadUnderLoad(t, words, async () => t.signal('SIGHUP'));
    t.kill();
  });
});

describe('deployment', () => {
  it('--shutdown-delay: /readyz turns 503 at once and the app keeps serving, then it stops', async () => {
    const port = await freePort();
    const t = startApp('--stats', `127.0.0.1:${port}`, '--shutdown-delay', '1');
    await t.waitForReady(1);
    const url = await t.url();
    t.signal('SIGTERM');
    await t.waitForLog((l) => l.msg.startsWith('TERM: not ready any more'));
    assert.equal((await request(`http://127.0.0.1:${port}/readyz`)).status, 503);
    assert.equal((await request(url)).status, 200, 'still serving during the delay');
    const stopping = await t.waitForLog((l) => l.msg === 'stopping gracefully');
    const term = t.logs.find((l) => l.msg.startsWith('TERM: not ready any more'))!;
    assert.ok(Date.parse(String(stopping['time'])) - Date.parse(String(term['time'])) >= 900);
    assert.equal((await t.exited).code, 0);
  });

  it('a second TERM during the delay stops at once', async () => {
    const t = startApp('--shutdown-delay', '30');
    await t.waitForReady(1);
    t.signal('SIGTERM');
    await t.waitForLog((l) => l.msg.startsWith('TERM: not ready any more'));
    t.signal('SIGTERM');
    await t.waitForLog((l) => l.msg === 'stopping now');
    assert.equal((await t.exited).code, 0);
  });

  it('-w auto derives the count from the CPU budget and logs how', async () => {
    const t = startApp('-w', 'auto');
    const line = await t.waitForLog((l) => l.msg.startsWith('-w auto:'));
    const workers = line['workers'] as number;
    assert.ok(workers >= 1);
    assert.equal(typeof line['how'], 'string');
    await t.waitForReady(workers);
    t.kill();
  });
});
