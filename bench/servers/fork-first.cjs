// The start-up floor of any supervisor that is itself a Node process: a parent that forks the
// given server file (with an IPC channel, as tsgun's workers have) as its first and only act.
// It binds nothing, reads no config, loads no logger: what is left is two Node starts, the
// second begun once the first can fork.
require('node:child_process').fork(process.argv[2], [], {
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
