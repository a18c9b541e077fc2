/**
 * `npm run security`: sends every case of the security suite to a real tsgun and prints what came
 * back; `npm run security:readme` writes the table into README.md (between the security markers).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { killAll, ROOT } from '../helpers/tsgun.js';
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
  if (process.argv.includes('--readme')) {
    const file = join(ROOT, 'README.md');
    const text = readFileSync(file, 'utf8');
    const marked = /(<!-- security:start -->\n)[\s\S]*?(<!-- security:end -->)/;
    if (!marked.test(text)) throw new Error('README.md has no security markers');
    writeFileSync(file, text.replace(marked, `$1${table}\n$2`));
    console.log('README.md updated');
  }
  process.exit(failed === 0 ? 0 : 1);
}

main().catch((err: unknown) => {
  killAll();
  console.error(err);
  process.exit(1);
});
