import { wantsDocs, writeBlock } from '../helpers/doc-blocks.js';
import { killAll } from '../helpers/tsgun.js';
import type { Figures } from './load.js';
import { SCENARIOS } from './scenarios.js';

// `npm run faults`: run every fault scenario under load and print the figures as a table.
// With --docs (or --readme), also put the table in docs/faults.md's faults block; `--only a,c-r` runs
// just those scenarios (by id).
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt >= 0 ? new Set((process.argv[onlyAt + 1] ?? '').split(',')) : null;
if (only && wantsDocs()) throw new Error('--docs needs every scenario');
const rows: Figures[] = [];
try {
  for (const scenario of SCENARIOS) {
    if (only && !only.has(scenario.id)) continue;
    process.stderr.write(`running (${scenario.id}) ${scenario.title}...\n`);
    rows.push(await scenario.run());
  }
} finally {
  killAll();
}
const header = '| | Scenario | Sent | Succeeded | Failed | Allowed | Note |';
const lines = [header, '| --- | --- | ---: | ---: | ---: | ---: | --- |'];
for (const r of rows)
  lines.push(
    `| ${r.id} | ${r.scenario} | ${r.sent} | ${r.ok} | ${r.failed} | ${r.allowed} | ${r.note} |`,
  );
const table = lines.join('\n');
process.stdout.write(`${table}\n`);
if (wantsDocs()) writeBlock('faults', table);
process.exitCode = rows.every((r) => r.failed <= r.allowed) ? 0 : 1;
