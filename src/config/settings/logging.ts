/**
 * The settings of the Logging section: the error log and the access log. Two groups, since the
 * registry's order (--print-config's, SETTING_NAMES') has the TLS settings between them.
 */
import { compileFormat } from '../../log/access-format.js';
import { LOG_LEVELS } from '../../log/levels.js';
import { LOG_FORMATS } from '../../log/pretty.js';
import { bool, nullable, oneOf, string } from '../parsers.js';
import { setting } from '../spec.js';

/** The error log, the app's output, and where the access log goes. */
export const LOG_SETTINGS = {
  logLevel: setting({
    section: 'Logging',
    flags: ['--log-level'],
    arg: 'LEVEL',
    default: 'info',
    parse: oneOf(LOG_LEVELS),
    help: `Error log level: ${LOG_LEVELS.join(', ')}.`,
    hup: true,
  }),
  logFormat: setting({
    section: 'Logging',
    flags: ['--log-format'],
    arg: 'FORMAT',
    default: 'auto',
    parse: oneOf(LOG_FORMATS),
    help: 'Error log lines as json, or pretty (one readable line per record); auto: pretty when stderr is a terminal.',
    hup: false,
  }),
  errorLogfile: setting({
    section: 'Logging',
    flags: ['--error-logfile'],
    arg: 'FILE',
    default: '-',
    parse: string,
    help: "Where JSON log lines go ('-' = stderr).",
    hup: false,
  }),
  captureOutput: setting({
    section: 'Logging',
    flags: ['--capture-output'],
    default: false,
    parse: bool,
    help: "The app's stdout and stderr lines become error log records (info and error), with the worker's index.",
    hup: true,
  }),
  accessLogfile: setting({
    section: 'Logging',
    flags: ['--access-logfile'],
    arg: 'FILE',
    default: null,
    parse: nullable(string),
    help: "Access log in Gunicorn's format ('-' = stdout). Off by default.",
    hup: true,
  }),
};

/** How an access log line reads. */
export const ACCESS_FORMAT_SETTINGS = {
  accessLogformat: setting({
    section: 'Logging',
    flags: ['--access-logformat'],
    arg: 'FORMAT',
    default: null,
    defaultDoc: 'Gunicorn\'s: %(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"',
    parse: nullable((v) => {
      const format = string(v);
      compileFormat(format); // an unknown atom fails here, at start, not on the first request
      return format;
    }),
    help: "Access log line with Gunicorn's atoms: %(h)s %(r)s %(s)s %(D)s %({header}i)s ... (see Logs).",
    hup: true,
  }),
  accessLogJson: setting({
    section: 'Logging',
    flags: ['--access-log-json'],
    default: false,
    parse: bool,
    help: 'Write the access log as JSON lines (one object per request) instead of text.',
    hup: true,
  }),
};
