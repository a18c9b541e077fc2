import { readFileSync, writeFileSync } from 'node:fs';
import { renderReadme } from './docs.js';

// `npm run docs` (`docs-cli --write README.md`): regenerate the README's settings and error
// tables from the registry. Without --write it only checks: exit 1 when the tables are stale.
const args = process.argv.slice(2);
const write = args.includes('--write');
const unknown = args.filter((a) => a.startsWith('-') && a !== '--write');
const files = args.filter((a) => !a.startsWith('-'));
if (unknown.length > 0 || files.length > 1) {
  process.stderr.write('usage: docs-cli [--write] [FILE] (FILE defaults to README.md)\n');
  process.exit(2);
}
const file = files[0] ?? 'README.md';
const before = readFileSync(file, 'utf8');
const after = renderReadme(before);
if (after === before) {
  process.stdout.write(`${file} is up to date\n`);
} else if (write) {
  writeFileSync(file, after);
  process.stdout.write(`${file} updated\n`);
} else {
  process.stdout.write(`${file} is stale: run npm run docs\n`);
  process.exitCode = 1;
}
