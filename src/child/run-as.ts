import { spawn } from 'node:child_process';
import { dropPrivileges } from './drop-privileges.js';

/**
 * `--cron "... exec:COMMAND"` with --user/--group: this small process switches to the user (with
 * its supplementary groups, which spawn's uid/gid options would clear), then runs the command in
 * a shell, passes on the signals the master's timeout sends, and exits as the shell did.
 * It never runs the command as root: a failed switch is one line on stderr and exit 126.
 */
const refused = dropPrivileges();
if (refused) {
  process.stderr.write(`${refused.message} [${refused.code}]\n`);
  process.exit(126);
}
const shell = spawn('/bin/sh', ['-c', process.argv[2] ?? ''], { stdio: 'inherit' });
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  process.on(signal, () => shell.kill(signal));
}
shell.on('exit', (code, signal) => {
  process.exitCode = code ?? 128;
  if (signal) process.kill(process.pid, signal);
});
