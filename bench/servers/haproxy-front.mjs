// The PROXY protocol rows (bench/rows.ts): HAProxy in `mode tcp` on $PORT in front of the tsgun
// command given as arguments (it binds `127.0.0.1:0` and logs the port it got). With
// $SEND_PROXY set HAProxy opens each connection with a v1 PROXY header (`send-proxy`) and the row
// runs tsgun with --proxy-protocol; without it, plain. Both rows have the same front, so the
// only difference between them is the header and tsgun's reading of it.
//
// HAProxy runs on $HAPROXY_CPU (the load generator's CPU: it is part of the client here) and in
// a session of its own, so the server's CPU time per request (its process group's,
// bench/measure.ts) is tsgun's alone. The bench SIGKILLs the server's group, which this launcher
// cannot see coming: a shell beside HAProxy stops it once this launcher is gone.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// tsgun binds the port itself (`127.0.0.1:0`) and says which in its 'listening at' line: a port
// probed here and bound later could be taken in between (seen: tsgun's bind failed, exit 2).
const argv = process.argv.slice(2);
const tsgun = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'inherit', 'pipe'] });
tsgun.on('exit', (code) => process.exit(code ?? 1));
const backend = await new Promise((resolve) => {
  let pending = '';
  tsgun.stderr.on('data', (chunk) => {
    process.stderr.write(chunk);
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      const record = JSON.parse(line);
      if (String(record.msg).startsWith('listening at')) resolve(new URL(record.address).port);
    }
  });
});
const cfg = join(mkdtempSync(join(tmpdir(), 'tsgun-bench-haproxy-')), 'haproxy.cfg');
const send = process.env.SEND_PROXY ? ' send-proxy' : '';
writeFileSync(
  cfg,
  [
    'global',
    '  nbthread 1',
    '  maxconn 4096',
    'defaults',
    '  mode tcp',
    '  timeout connect 5s',
    '  timeout client 30s',
    '  timeout server 30s',
    'listen front',
    `  bind 127.0.0.1:${process.env.PORT}`,
    `  server app 127.0.0.1:${backend}${send}`,
    '',
  ].join('\n'),
);
const cpu = process.env.HAPROXY_CPU;
const haproxy = [...(cpu ? ['taskset', '-c', cpu] : []), 'haproxy', '-f', cfg, '-db'].join(' ');
const watch = `while kill -0 ${process.pid} 2>/dev/null; do sleep 0.5; done`;
spawn('sh', ['-c', `${haproxy} & h=$!; ${watch}; kill $h`], {
  detached: true,
  stdio: 'ignore',
}).unref();
