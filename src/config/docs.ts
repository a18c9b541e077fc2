import { ERROR_DOCS, ExitCode } from '../errors.js';
import { REGISTRY, SECTIONS, SETTING_NAMES, type SettingDef } from './registry.js';

/**
 * The settings and error tables of docs/settings.md and docs/errors.md, generated from the
 * registry and errors.ts so the documentation cannot drift from the code (a unit test compares
 * them).
 */

function defaultCell(def: SettingDef<unknown>): string {
  if (def.defaultDoc) return def.defaultDoc;
  if (typeof def.default === 'function') return '(computed)';
  const shown = def.format ? def.format(def.default) : def.default;
  if (shown === null || (Array.isArray(shown) && shown.length === 0)) return '(none)';
  return `\`${Array.isArray(shown) ? shown.join(', ') : String(shown)}\``;
}

const cell = (text: string) => text.replace(/\|/g, '\\|');

export function settingsTable(): string {
  const rows = [
    '| Setting (file key) | CLI | Environment | Default | HUP | Meaning |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const section of SECTIONS) {
    for (const name of SETTING_NAMES) {
      const def = REGISTRY[name] as SettingDef<unknown>;
      if (def.section !== section) continue;
      const cli = def.flags.length
        ? def.flags.map((f) => `\`${f}\``).join(' ')
        : def.fileOnly
          ? '(config file only)'
          : `\`${def.arg}\` (positional)`;
      const key = def.cliOnly ? '(CLI only)' : `\`${name}\``;
      rows.push(
        `| ${key} | ${cli} | ${def.env && !def.cliOnly ? `\`${def.env}\`` : ''} | ${cell(defaultCell(def))} | ${def.hup ? 'yes' : 'restart'} | ${cell(def.help)} |`,
      );
    }
  }
  return rows.join('\n');
}

export function errorsTable(): string {
  const exitNames = Object.fromEntries(Object.entries(ExitCode).map(([k, v]) => [v, k]));
  const rows = ['| Code | Exit | Meaning |', '| --- | --- | --- |'];
  for (const [code, doc] of Object.entries(ERROR_DOCS)) {
    rows.push(`| \`${code}\` | ${doc.exit} (${exitNames[doc.exit]}) | ${cell(doc.meaning)} |`);
  }
  return rows.join('\n');
}

export const GENERATED: Record<string, () => string> = {
  settings: settingsTable,
  errors: errorsTable,
};

/** The page of the manual that holds each generated table. */
export const GENERATED_PAGES: Record<string, string> = {
  settings: 'docs/settings.md',
  errors: 'docs/errors.md',
};

/**
 * Replace each `<!-- NAME:start -->...<!-- NAME:end -->` block the page holds with freshly
 * generated text; a page holding none of them is an error (the wrong file was named).
 */
export function renderDocs(page: string): string {
  let out = page;
  let found = 0;
  for (const [name, generate] of Object.entries(GENERATED)) {
    const re = new RegExp(`(<!-- ${name}:start -->)[\\s\\S]*?(<!-- ${name}:end -->)`);
    if (!re.test(out)) continue;
    found++;
    out = out.replace(re, (_, start: string, end: string) => `${start}\n${generate()}\n${end}`);
  }
  if (found === 0) {
    const names = Object.keys(GENERATED).join(', ');
    throw new Error(`the page has no <!-- NAME:start --> ... <!-- NAME:end --> block (${names})`);
  }
  return out;
}
