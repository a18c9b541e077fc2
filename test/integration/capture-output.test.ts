import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { request } from '../helpers/http.js';
import { fixture, killAll, Tsgun, waitForFile } from '../helpers/tsgun.js';

after(killAll);

const scratch = mkdtempSync(join(tmpdir(), 'tsgun-capture-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

interface Record {
  level: number;
  msg: string;
  role: string;
  pid: number;
  stream?: string;
  workerIndex?: number;
}

const records = (text: string): Record[] =>
  text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record);

/** The captured records of request n, once all of them are in the file. */
async function capturedOf(file: string, n: number): Promise<Record[]> {
  const lines = [`out ${n}`, `err ${n}`, `part ${n} joined`];
  const text = await waitForFile(file, (s) => s.includes(`"part ${n} joined"`));
  return records(text).filter((r) => r.stream !== undefined && lines.includes(r.msg));
}

describe('--capture-output', () => {
  it("the app's stdout/stderr lines are error-log records with the worker index; USR1 reopens", async () => {
    const errors = join(scratch, 'error.log');
    const t = new Tsgun([
      fixture('chatty.mjs'),
      '-b',
      '127.0.0.1:0',
      '-w',
      '2',
      '--capture-output',
      '--error-logfile',
      errors,
    ]);
    const boot = await waitForFile(errors, (s) => s.split('"worker ready"').length === 3);
    const url = records(boot)
      .find((r) => r.msg.startsWith('listening at'))!
      .msg.split(' ')[2]!;

    const { body } = await request(`${url}?n=1`);
    const workerPid = (JSON.parse(body) as { pid: number }).pid;
    const first = await capturedOf(errors, 1);
    assert.deepEqual(
      first.map((r) => [r.stream, r.level, r.msg, r.role, r.pid]),
      [
        ['stdout', 30, 'out 1', 'worker', workerPid],
        ['stderr', 50, 'err 1', 'worker', workerPid],
        ['stdout', 30, 'part 1 joined', 'worker', workerPid],
      ],
    );
    assert.ok(
      first.every((r) => r.workerIndex === 0 || r.workerIndex === 1),
      JSON.stringify(first),
    );
    // Nothing raw: neither tsgun's stderr nor stdout carries the app's text.
    assert.doesNotMatch(t.stderrText + t.stdoutText, /out 1|err 1|part 1/);

    // logrotate moves the file; USR1 makes every process write to a new one.
    renameSync(errors, `${errors}.1`);
    t.signal('SIGUSR1');
    await waitForFile(errors, (s) => s.includes('reopened log files (USR1)'));
    // Each worker reopens on its own USR1, a moment later: requests until one lands there.
    let n = 2;
    for (; n < 40; n++) {
      await request(`${url}?n=${n}`);
      const text = readFileSync(errors, 'utf8');
      if (text.includes(`"part ${n} joined"`)) break;
    }
    assert.ok(n < 40, 'no captured line reached the reopened file');
    const moved = readFileSync(`${errors}.1`, 'utf8');
    assert.ok(moved.includes('"out 1"'), 'lines before the rotation stay in the moved file');

    // A line without a newline is logged when the worker exits.
    await request(`${url}/exit?n=9`);
    const text = await waitForFile(errors, (s) => s.includes('"last words 9"'));
    const last = records(text).find((r) => r.msg === 'last words 9')!;
    assert.equal(last.stream, 'stdout');
    t.kill();
  });

  it('without it the app writes to the inherited stdout and stderr as before', async () => {
    const t = new Tsgun([fixture('chatty.mjs'), '-b', '127.0.0.1:0']);
    await t.waitForReady(1);
    await request(`${await t.url()}?n=5`);
    // The pipe delivers the worker's writes on its own time: wait for the data event with them.
    const arrived = (stream: NodeJS.ReadableStream, text: () => string, re: RegExp) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (!re.test(text())) return;
          stream.off('data', check);
          resolve();
        };
        stream.on('data', check);
        check();
      });
    await arrived(t.child.stdout!, () => t.stdoutText, /part 5 joined/);
    await arrived(t.child.stderr!, () => t.stderrText, /err 5/);
    assert.match(t.stdoutText, /out 5\npart 5 joined\n/);
    assert.match(t.stderrText, /err 5\n/);
    t.kill();
  });
});
