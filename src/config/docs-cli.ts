import { readFileSync, writeFileSync } from 'node:fs';
import { GENERATED_PAGES, renderDocs } from './docs.js';

// `npm run docs` (`docs-cli --write`): regenerate the settings and error tables of
// docs/settings.md and docs/errors.md from the registry. Without --write it only checks: exit 1
// when a table is stale. Naming FILEs renders those instead.
const args = process.argv.slice(2);
const write = args.includes('--write');
const unknown = args.filter((a) => a.startsWith('-') && a !== '--write');
const named = args.filter((a) => !a.startsWith('-'));
if (unknown.length > 0) {
  process.stderr.write(
    'usage: docs-cli [--write] [FILE...] (default: the pages of docs/ with tables)\n',
  );
  process.exit(2);
}
const files = named.length > 0 ? named : [...new Set(Object.values(GENERATED_PAGES))];
for (const file of files) {
  const before = readFileSync(file, 'utf8');
  const after = renderDocs(before);
  if (after === before) {
    process.stdout.write(`${file} is up to date\n`);
  } else if (write) {
    writeFileSync(file, after);
    process.stdout.write(`${file} updated\n`);
  } else {
    process.stdout.write(`${file} is stale: run npm run docs\n`);
    process.exitCode = 1;
  }
}
