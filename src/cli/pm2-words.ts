import { ConfigError, ErrorCode } from '../errors.js';

/**
 * PM2's command words, answered with the tsgun way of doing the same thing: a PM2 user's first
 * `tsgun logs` must not read as "app module not found: logs". `start` is PM2's word for running
 * an app, so `tsgun start app.js` runs it (the word is dropped).
 */
const ANSWERS: Readonly<Record<string, string>> = {
  logs: 'tsgun keeps no log store: the master and its workers write to stderr, or to --error-logfile FILE and --access-logfile FILE; under systemd read them with journalctl -u SERVICE -f, in a container with docker logs -f',
  list: 'use tsgun status (the master found through its pidfile or control socket: -p FILE, or the pid in the config file)',
  ls: 'use tsgun status',
  jlist: 'use tsgun stats ADDR --json (with --stats on the master)',
  restart:
    'use tsgun reload: a rolling restart (a new worker is ready before an old one stops, no request lost), what pm2 reload does',
  monit: 'use tsgun top ADDR (a live workers table, with --stats on the master)',
  delete: 'use tsgun stop: a master runs one app, so stopping it is deleting it',
  del: 'use tsgun stop',
  kill: 'use tsgun stop',
  save: 'tsgun keeps no process list to save: run it under systemd (examples/systemd/tsgun.service) or your container runtime, which start it at boot',
  startup: 'use your service manager: examples/systemd/tsgun.service is a unit file for systemd',
  resurrect: 'tsgun keeps no process list: your service manager starts tsgun again',
};

export type Pm2Word = { readonly kind: 'run'; readonly argv: readonly string[] } | null;

/**
 * `argv` whose first word is PM2's: an error with the tsgun way for the words tsgun has its own
 * command for, the rest of argv to run for `start FILE`, null for anything else.
 */
export function pm2Word(argv: readonly string[], isAppFile: (word: string) => boolean): Pm2Word {
  const [word, ...rest] = argv;
  // An app file that happens to be named like the word (start.js, logs.mjs) is run.
  if (word === undefined || isAppFile(word)) return null;
  if (word === 'start') {
    if (rest[0] === undefined || rest[0].startsWith('-'))
      throw new ConfigError(
        ['tsgun start: name the app to run: tsgun start app.js (the same as tsgun app.js)'],
        ErrorCode.UNKNOWN_COMMAND,
      );
    return { kind: 'run', argv: rest };
  }
  if (!Object.hasOwn(ANSWERS, word)) return null;
  const answer = ANSWERS[word];
  throw new ConfigError([`tsgun ${word}: ${answer}`], ErrorCode.UNKNOWN_COMMAND);
}
