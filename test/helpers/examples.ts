import { readFileSync } from 'node:fs';
import { splitShellWords } from '../../src/config/shell-words.js';
import { instructions } from './dockerfile.js';
import { ROOT } from './tsgun.js';

/**
 * The command lines the shipped examples start tsgun with, read from the files themselves, so a
 * test runs what a user would copy (and fails when an example drifts back to npx or npm).
 */

/** A systemd unit's [Service] keys (the last assignment of a key wins, as in systemd). */
export function systemdService(file: string): Record<string, string> {
  const keys: Record<string, string> = {};
  let section = '';
  for (const raw of readFileSync(`${ROOT}${file}`, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) section = header[1]!;
    else if (section === 'Service') {
      const eq = line.indexOf('=');
      keys[line.slice(0, eq)] = line.slice(eq + 1);
    }
  }
  return keys;
}

/** ExecStart= and friends, split as systemd does (shell-like quoting, no shell). */
export const execWords = splitShellWords;

/** The final stage's WORKDIR, ENV and exec-form CMD of a Dockerfile. */
export function dockerfileCmd(file: string): {
  workdir: string;
  env: Record<string, string>;
  cmd: string[];
} {
  let workdir = '/';
  let env: Record<string, string> = {};
  let cmd: string[] = [];
  for (const [op, rest] of instructions(readFileSync(`${ROOT}${file}`, 'utf8'))) {
    if (op === 'FROM') [workdir, env] = ['/', {}];
    else if (op === 'WORKDIR') workdir = rest;
    else if (op === 'ENV') {
      const [key, value] = rest.split('=');
      env[key!] = value!;
    } else if (op === 'CMD') cmd = JSON.parse(rest) as string[];
  }
  return { workdir, env, cmd };
}

/**
 * A Kubernetes container's `command` and `args`, written as YAML flow sequences of JSON strings
 * (the form the shipped manifest uses; a trailing comma is allowed).
 */
export function containerCommand(file: string): { command: string[]; args: string[] } {
  const text = readFileSync(`${ROOT}${file}`, 'utf8');
  const list = (key: string) => {
    const m = new RegExp(`^\\s*${key}:\\s*(\\[[^\\]]*\\])`, 'm').exec(text);
    if (!m) throw new Error(`${file} has no ${key}: [...] sequence`);
    return JSON.parse(m[1]!.replace(/,\s*\]$/, ']')) as string[];
  };
  return { command: list('command'), args: list('args') };
}
