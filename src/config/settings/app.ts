/** The settings of the App and Server socket sections: what runs, and where it listens. */

import {
  type BindAddress,
  duplicateBind,
  formatBindAddress,
  parseBindAddress,
} from '../address.js';
import { type AppSpec, formatAppSpec, parseAppSpec } from '../app-spec.js';
import { int, list, nullable, string } from '../parsers.js';
import { setting } from '../spec.js';

export const APP_SETTINGS = {
  app: setting<AppSpec | null>({
    section: 'App',
    flags: [],
    arg: 'APP',
    default: null,
    parse: nullable((v) => parseAppSpec(string(v))),
    format: (v) => (v === null ? null : formatAppSpec(v)),
    help: 'The app: path/to/module[:export], or module:factory() to call a factory (may be async).',
    hup: true,
  }),
  config: setting({
    section: 'App',
    flags: ['-c', '--config'],
    arg: 'PATH',
    default: null,
    parse: nullable(string),
    help: 'A config file (.json, .js, .mjs, .cjs) whose keys are setting names, or a PM2 ecosystem file (an apps list).',
    hup: true,
  }),
  only: setting({
    section: 'App',
    flags: ['--only'],
    arg: 'NAME',
    cliOnly: true,
    default: null,
    parse: nullable(string),
    help: 'With a PM2 ecosystem file as APP (or --config) naming several apps: the one to run.',
    hup: false,
  }),
};

export const SOCKET_SETTINGS = {
  bind: setting<readonly BindAddress[]>({
    section: 'Server socket',
    flags: ['-b', '--bind'],
    arg: 'ADDRESS',
    repeatable: true,
    default: (env) => [
      env['PORT'] ? parseBindAddress(`0.0.0.0:${env['PORT']}`) : parseBindAddress('127.0.0.1:8000'),
    ],
    defaultDoc:
      "0.0.0.0:$PORT when PORT is set; else the address the app's listen() asks for, bound on demand (127.0.0.1:8000 for an exported app, and with --router)",
    parse: (v) => {
      const specs = list(string)(v);
      const items = specs.map((spec) => parseBindAddress(spec));
      if (items.length === 0) throw new Error('expected at least one address');
      const duplicate = duplicateBind(specs);
      if (duplicate) throw new Error(`${duplicate}: each address is bound once`);
      return items;
    },
    format: (v) => v.map(formatBindAddress),
    help: 'Address to bind, repeatable: HOST:PORT, :PORT, [::1]:PORT, unix:PATH, fd://N.',
    hup: false,
  }),
  backlog: setting({
    section: 'Server socket',
    flags: ['--backlog'],
    arg: 'INT',
    default: 2048,
    parse: int({ min: 1, max: 65535 }),
    help: 'Listen queue length passed to listen(2); the kernel caps it at net.core.somaxconn.',
    hup: false,
  }),
};
