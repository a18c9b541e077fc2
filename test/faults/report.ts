import { killAll } from '../helpers/tsgun.js';
import { type Figures, SCENARIOS } from './scenarios.js';

// `npm run faults`: run every fault scenario under load and print the figures as a table.
const rows: Figures[] = [];
try {
  for (const scenario of SCENARIOS) {
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
process.stdout.write(`${lines.join('\n')}\n`);
process.exitCode = rows.every((r) => r.failed <= r.allowed) ? 0 : 1;
