/** The settings of the Scheduled jobs section, and the parsing of a --cron entry. */
import { nodeRequire } from '../../node-require.js';
import { nullable, string } from '../parsers.js';
import { setting } from '../spec.js';

/** node-cron, loaded the first time a --cron is read (most starts have none: a faster start). */
const cronValidate = (spec: string): boolean =>
  (nodeRequire('node-cron') as typeof import('node-cron')).validate(spec);

/** `--cron "SPEC ACTION"`: a 5- or 6-field cron expression and what the master does then. */
export interface CronEntry {
  readonly spec: string;
  readonly action:
    | { readonly kind: 'reload' }
    | { readonly kind: 'restart-workers' }
    | { readonly kind: 'exec'; readonly command: string };
}

/** `SPEC ACTION`: the action is the last word; the spec (5 or 6 fields) is everything before. */
export function parseCron(text: string): CronEntry {
  const words = text.trim().split(/\s+/);
  const actionIndex = words.findIndex(
    (w, i) => i >= 5 && (w === 'reload' || w === 'restart-workers' || w.startsWith('exec:')),
  );
  if (actionIndex < 0)
    throw new Error(
      `expected "SPEC ACTION" with ACTION reload, restart-workers or exec:COMMAND, got ${JSON.stringify(text)}`,
    );
  const spec = words.slice(0, actionIndex).join(' ');
  if (actionIndex > 6 || !cronValidate(spec))
    throw new Error(`invalid cron expression ${JSON.stringify(spec)} in ${JSON.stringify(text)}`);
  const word = words[actionIndex]!;
  if (word.startsWith('exec:')) {
    const command = [word.slice(5), ...words.slice(actionIndex + 1)].join(' ').trim();
    if (!command) throw new Error(`exec: needs a command in ${JSON.stringify(text)}`);
    return { spec, action: { kind: 'exec', command } };
  }
  if (actionIndex !== words.length - 1)
    throw new Error(`unexpected text after ${word} in ${JSON.stringify(text)}`);
  return { spec, action: { kind: word as 'reload' | 'restart-workers' } };
}

export const JOB_SETTINGS = {
  cron: setting<readonly CronEntry[]>({
    section: 'Scheduled jobs',
    flags: ['--cron'],
    arg: 'SPEC ACTION',
    repeatable: true,
    default: [],
    parse: (v) =>
      (Array.isArray(v) ? v : v === undefined ? [] : [v]).map((x) => parseCron(string(x))),
    format: (v) =>
      v.map(
        (e) => `${e.spec} ${e.action.kind === 'exec' ? `exec:${e.action.command}` : e.action.kind}`,
      ),
    help: 'Repeatable: "SPEC ACTION", SPEC a 5- or 6-field cron expression, ACTION reload, restart-workers or exec:COMMAND.',
    hup: true,
  }),
  cronTimezone: setting({
    section: 'Scheduled jobs',
    flags: ['--cron-timezone'],
    arg: 'TZ',
    default: null,
    parse: nullable((v) => {
      const tz = string(v);
      try {
        new Intl.DateTimeFormat('en', { timeZone: tz });
      } catch {
        throw new Error(`unknown time zone ${JSON.stringify(tz)}`);
      }
      return tz;
    }),
    help: 'Time zone of --cron and app job schedules (default: the system time zone).',
    hup: true,
  }),
};
