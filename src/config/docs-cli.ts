import { readFileSync, writeFileSync } from 'node:fs';
import { renderReadme } from './docs.js';

// `npm run docs`: regenerate the README's settings and error tables from the registry.
const file = process.argv[3] ?? 'README.md';
const before = readFileSync(file, 'utf8');
const after = renderReadme(before);
if (after !== before) writeFileSync(file, after);
process.stdout.write(after === before ? `${file} is up to date\n` : `${file} updated\n`);
