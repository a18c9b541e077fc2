/**
 * `npm run security`: sends every case of the security suite to a real tsgun and prints what came
 * back; `npm run security:readme` writes the table into README.md (between the security markers).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { killAll, ROOT } from '../helpers/tsgun.js';
import { CASES } from './cases.js';
import { passes, startTarget } from './target.js';

async function main(): Promise<void> {
  const { t, send } = await startTarget();
  const rows = ['| Case | Sent | Expected | Got | |', '| --- | --- | --- | --- | --- |'];
  let failed = 0;
  for (const c of CASES) {
    const o = await send(c);
    const ok = passes(c, o);
    if (!ok) failed++;
    const got = `${o.status || 'no answer'}${o.responses > 1 ? ` (+${o.responses - 1} more)` : ''}${o.closed ? ', closed' : ', left open'}`;
    rows.push(`| ${c.id} | ${c.what} | ${c.status}, closed | ${got} | ${ok ? 'pass' : 'FAIL'} |`);
  }
  t.kill();
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
