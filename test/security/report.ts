/**
 * `npm run security`: sends every case of the security suite to a real tsgun and prints what came
 * back; `npm run security:docs` writes the table into docs/security.md (its security block).
 */
import { wantsDocs, writeBlock } from '../helpers/doc-blocks.js';
import { killAll } from '../helpers/tsgun.js';
import { type AppSees, CASES, expected, MODES } from './cases.js';
import { failures, startTarget } from './target.js';

/** `x-real-ip` absent, `x-forwarded-for` = `127.0.0.1`: short enough for a table cell. */
function describeSees(sees: AppSees): string {
  return Object.entries(sees)
    .map(([name, value]) => (value === null ? `no ${name}` : `${name} \`${value}\``))
    .join(', ');
}

async function main(): Promise<void> {
  const rows = [
    '| Case | Sent | Mode | Expected | Got | |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  let failed = 0;
  for (const mode of MODES) {
    const { t, send } = await startTarget(mode);
    for (const c of CASES) {
      const o = await send(c);
      const wrong = failures(c, mode, o);
      if (wrong.length > 0) failed++;
      const want = expected(c, mode);
      const sees = want.appSees ? `; app sees ${describeSees(want.appSees)}` : '';
      const got =
        wrong.length > 0
          ? wrong.join('; ')
          : `${o.status}, closed${want.appSees ? ', app saw the same' : ''}`;
      rows.push(
        `| ${c.id} | ${c.what} | ${mode} | ${want.status}, closed${sees} | ${got} | ${wrong.length ? 'FAIL' : 'pass'} |`,
      );
    }
    t.kill();
  }
  killAll();
  const table = rows.join('\n');
  console.log(table);
  if (wantsDocs()) console.log(`${writeBlock('security', table)} updated`);
  process.exit(failed === 0 ? 0 : 1);
}

main().catch((err: unknown) => {
  killAll();
  console.error(err);
  process.exit(1);
});
