import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { killAll, runTsgun, startApp, type Tsgun } from './tsgun.js';

/** Helpers of the control-command tests (control*.test.ts): masters, status, process titles. */

/**
 * A test file's directory for pidfiles and control sockets, removed (and every tsgun killed)
 * after the file; `master` starts one with a pidfile of its own there.
 */
export function controlMasters() {
  const dir = mkdtempSync(join(tmpdir(), 'tsgun-control-'));
  after(() => {
    killAll();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, master: (workers: number, ...args: string[]) => masterIn(dir, workers, ...args) };
}

let serial = 0;
/** A master with a pidfile of its own in `dir`; resolves once `workers` workers are ready. */
async function masterIn(
  dir: string,
  workers: number,
  ...args: string[]
): Promise<{ t: Tsgun; pidfile: string }> {
  const pidfile = join(dir, `m${++serial}.pid`);
  const t = startApp('-w', String(workers), '-p', pidfile, ...args);
  await t.waitForReady(workers);
  return { t, pidfile };
}

export const control = (...args: string[]) => runTsgun(args);

export interface StatusJson {
  name: string;
  pid: number;
  targetWorkers: number;
  workers: {
    index: number;
    pid: number;
    state: string;
    generation: number;
    requests: number;
    rssBytes: number;
    ageSeconds: number;
  }[];
}

export async function statusOf(pidfile: string): Promise<StatusJson> {
  const r = await control('status', '-p', pidfile, '--json');
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as StatusJson;
}

/** The command line of a process as `ps -o args=` shows it (what process.title wrote). */
export function cmdline(pid: number): string {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '').replace(/\0/g, ' ');
}

export function psArgs(pid: number): Promise<string> {
  const ps = spawn('ps', ['-o', 'args=', '-p', String(pid)], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let out = '';
  ps.stdout.setEncoding('utf8').on('data', (c: string) => {
    out += c;
  });
  return once(ps, 'close').then(() => out.trim());
}
