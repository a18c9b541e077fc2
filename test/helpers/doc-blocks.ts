/**
 * The generated blocks of the manual (`<!-- NAME:start -->...<!-- NAME:end -->`): the bench,
 * fault and security scripts write their tables into whichever page of docs/ (or the README)
 * holds the block, so a block moved between pages needs no change in the scripts.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));

/** README.md and every docs/*.md, as paths relative to the repository. */
export function docFiles(root = REPO): string[] {
  const pages = readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`);
  return ['README.md', ...pages];
}

function blockRe(name: string): RegExp {
  const n = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(<!-- ${n}:start -->)\\n?([\\s\\S]*?)\\n?(<!-- ${n}:end -->)`);
}

/** The page that holds block NAME; throws naming the block when no page does. */
export function pageWithBlock(name: string, root = REPO): string {
  const re = blockRe(name);
  const page = docFiles(root).find((f) => re.test(readFileSync(join(root, f), 'utf8')));
  if (page === undefined) throw new Error(`no page of docs/ has a <!-- ${name}:start --> block`);
  return page;
}

/** The current text of block NAME (without its markers). */
export function readBlock(name: string, root = REPO): string {
  const text = readFileSync(join(root, pageWithBlock(name, root)), 'utf8');
  return blockRe(name).exec(text)?.[2] ?? '';
}

/** Put BODY into block NAME, in the page that holds it; returns that page. */
export function writeBlock(name: string, body: string, root = REPO): string {
  const page = pageWithBlock(name, root);
  const file = join(root, page);
  const text = readFileSync(file, 'utf8');
  writeFileSync(
    file,
    text.replace(blockRe(name), (_, a: string, _b: string, c: string) => `${a}\n${body}\n${c}`),
  );
  return page;
}

/** `--docs` writes the tables into the manual; `--readme` is its old name, still accepted. */
export function wantsDocs(argv = process.argv): boolean {
  return argv.includes('--docs') || argv.includes('--readme');
}
