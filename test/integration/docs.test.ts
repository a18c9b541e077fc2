import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { after, describe, it } from 'node:test';
import { docFiles } from '../helpers/doc-blocks.js';
import { freePort, request, waitFor200 } from '../helpers/http.js';
import { anchors, fences, inlineCode, relativeLinks } from '../helpers/markdown.js';
import { killAll, ROOT, runTsgun, Tsgun } from '../helpers/tsgun.js';

after(killAll);

/** The pages of the manual, the README and the contributor page. */
const PAGES = [...docFiles(ROOT), 'DEVELOPERS.md', 'examples/production/PM2-MIGRATION.md'];
const read = (page: string) => readFileSync(join(ROOT, page), 'utf8');

// Pages other helpers write on their own branches, merged after this one: links to them may
// point nowhere until then. Remove each name once its page is in.
const PENDING = new Set<string>();

const COMMANDS = ['status', 'reload', 'scale', 'stop', 'stats', 'top', 'help', 'version'];

/** Where a command of the docs runs tsgun: the flags and words after it. */
const TSGUN_AT = /(?:^|[\s(`"'])(?:npx |node bin\/|node_modules\/\.bin\/|exec )?tsgun (.*)$/;

/**
 * Flags the docs name in a bare code span that are not tsgun's: other tools' (the bench's own,
 * wrk/httperf, Node's loaders, Gunicorn's and uWSGI's in the migration table), PM2's and
 * Gunicorn's spellings that tsgun answers with its own (`-i`, `--watch`, `--port`), and the
 * fault suite's scenario suffixes. Anything else in a span that starts with a dash must be tsgun's.
 */
const NOT_TSGUN = new Set([
  ...['--pairs', '--together', '--compare', '--out', '--num-conns'], // npm run bench, httperf
  ...['--import', '--require', '--loader', '--cpu-prof'], // node
  ...['-k', '--threads', '--harakiri', '--http-socket'], // Gunicorn, uWSGI
  ...['-i', '--watch', '--port'], // PM2's and others' spellings tsgun corrects
  ...['-r', '-r2'], // fault scenario ids (router, two routers)
]);

/** The text after `tsgun ` on each line of code (blocks and spans) that runs tsgun. */
function tsgunCommandLines(text: string): string[] {
  const lines = [
    ...fences(text)
      .filter((f) => f.info.startsWith('sh') || f.info === '' || f.info.startsWith('bash'))
      .flatMap((f) => f.body.split('\n')),
    ...inlineCode(text),
  ];
  return lines
    .map((l) => TSGUN_AT.exec(l)?.[1])
    .filter((rest): rest is string => rest !== undefined)
    .map((rest) => rest.split(/\s#|[|;&]|\s>/)[0]!);
}

describe('the docs', () => {
  it('README.md stays a first visit: at most 200 lines', () => {
    const lines = read('README.md').split('\n').length;
    assert.ok(lines <= 200, `README.md has ${lines} lines`);
  });

  it('names the tarball npm pack writes for this version (the install is from a tarball)', () => {
    const { version } = JSON.parse(read('package.json')) as { version: string };
    for (const page of PAGES) {
      for (const name of read(page).match(/tsgun-\d+\.\d+\.\d+[\w.-]*?\.tgz/g) ?? [])
        assert.equal(name, `tsgun-${version}.tgz`, page);
    }
    assert.match(read('README.md'), new RegExp(`npm install \\S*tsgun-${version}\\.tgz`));
  });

  it('every relative link resolves, to a file and to its #anchor', () => {
    const broken: string[] = [];
    for (const page of PAGES) {
      for (const link of relativeLinks(read(page))) {
        const [path, anchor] = link.split('#') as [string, string | undefined];
        const target = path === '' ? page : normalize(join(dirname(page), path));
        if (PENDING.has(target)) continue;
        if (!existsSync(join(ROOT, target))) {
          broken.push(`${page}: ${link} (no ${target})`);
          continue;
        }
        if (anchor !== undefined && target.endsWith('.md') && !anchors(read(target)).has(anchor))
          broken.push(`${page}: ${link} (no heading #${anchor} in ${target})`);
      }
    }
    assert.deepEqual(broken, []);
  });

  it('every page of docs/ says first what it is for', () => {
    for (const page of docFiles(ROOT).filter((p) => p.startsWith('docs/'))) {
      const [title, blank, intro] = read(page).split('\n');
      assert.match(title!, /^# /, page);
      assert.equal(blank, '', page);
      assert.match(intro!, /^What this page is for: /, page);
    }
  });

  it('every docs/ path that tsgun --help and the sources name exists', async () => {
    const help = await runTsgun(['--help']);
    const named = new Set(help.stdout.match(/docs\/[\w-]+\.md/g) ?? []);
    assert.ok(named.has('docs/index.md'), '--help points at the manual');
    // The settings' help texts are in src/config/settings/, one file per group of sections.
    const settings = readdirSync(join(ROOT, 'src/config/settings')).map(
      (file) => `src/config/settings/${file}`,
    );
    const sources = [
      'src/errors.ts',
      'src/config/registry.ts',
      'src/config/spec.ts',
      'src/config/cli.ts',
    ];
    for (const src of [...sources, ...settings]) {
      for (const m of read(src).match(/docs\/[\w-]+\.md/g) ?? []) named.add(m);
    }
    for (const path of named) assert.ok(existsSync(join(ROOT, path)), path);
  });

  it('names only TSGUN_ERR_ codes that src/errors.ts has', () => {
    const errors = read('src/errors.ts');
    const unknown = PAGES.flatMap((page) =>
      (read(page).match(/TSGUN_ERR_[A-Z][A-Z0-9_]*/g) ?? [])
        .filter((code) => !errors.includes(`'${code}'`))
        .map((code) => `${page}: ${code}`),
    );
    assert.deepEqual(unknown, []);
  });

  it('names only tsgun commands and flags that tsgun has', async () => {
    const helps = await Promise.all(
      [['--help'], ...COMMANDS.map((w) => ['help', w])].map((args) => runTsgun(args)),
    );
    const known = new Set(helps.flatMap((h) => h.stdout.match(/--?[a-zA-Z][\w-]*/g) ?? []));
    const problems: string[] = [];
    let checked = 0;
    for (const page of PAGES) {
      for (const rest of tsgunCommandLines(read(page))) {
        const word = /^([a-z]+)(?=\s|$)/.exec(rest)?.[1];
        // `tsgun start FILE` is PM2's word, taken for an ecosystem file.
        if (word !== undefined && !COMMANDS.includes(word) && word !== 'start')
          problems.push(`${page}: tsgun ${word} (no such command)`);
        for (const flag of rest.match(/(?<![\w-])--?[a-zA-Z][\w-]*/g) ?? []) {
          checked++;
          if (!known.has(flag)) problems.push(`${page}: tsgun ... ${flag}`);
        }
      }
    }
    // DEVELOPERS.md is about Node's own flags and internals: the user's pages only.
    for (const page of docFiles(ROOT)) {
      for (const span of inlineCode(read(page))) {
        const flag = /^(--?[a-zA-Z][\w-]*)(?:[ =/].*)?$/.exec(span)?.[1];
        if (flag === undefined || NOT_TSGUN.has(flag)) continue;
        checked++;
        if (!known.has(flag)) problems.push(`${page}: \`${span}\``);
      }
    }
    assert.ok(checked > 50, `flags checked: ${checked}`);
    assert.deepEqual(problems, []);
  });
});

/** The runnable blocks (```sh test) of a page, each as a list of steps. */
function runnableBlocks(page: string): string[][] {
  return fences(read(page))
    .filter((f) => f.info === 'sh test')
    .map((f) => f.body.split('\n').filter((l) => l.trim() !== ''));
}

/**
 * Runs one block the way a person would type it, in an empty directory: heredocs write files,
 * `npx tsgun ... &` starts the built tsgun in the background, `curl URL  # BODY` checks the
 * answer, any other `npx tsgun ...` must exit 0. A line of any other shape fails the test, so
 * nothing in a runnable block goes unchecked.
 */
async function runBlock(lines: string[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tsgun-docs-'));
  const ports = new Map<string, number>();
  const port = async (p: string) => {
    if (!ports.has(p)) ports.set(p, await freePort());
    return ports.get(p)!;
  };
  const withPorts = async (line: string) => {
    let out = line;
    for (const m of line.matchAll(/127\.0\.0\.1:(\d+)/g))
      out = out.replace(m[0], `127.0.0.1:${await port(m[1]!)}`);
    return out;
  };
  let server: Tsgun | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heredoc = /^cat > (\S+) <<'EOF'$/.exec(line);
    if (heredoc) {
      const end = lines.indexOf('EOF', i);
      assert.ok(end > i, `${line}: no EOF`);
      writeFileSync(join(dir, heredoc[1]!), `${lines.slice(i + 1, end).join('\n')}\n`);
      i = end;
      continue;
    }
    const background = /^npx tsgun (.+) &$/.exec(line);
    if (background) {
      assert.equal(server, undefined, 'one server per block');
      server = new Tsgun((await withPorts(background[1]!)).split(' '), { cwd: dir });
      continue;
    }
    const curl = /^curl (\S+)\s+# (.*)$/.exec(line);
    if (curl) {
      const url = await withPorts(curl[1]!);
      await waitFor200(url, 20_000);
      const reply = await request(url);
      assert.equal(reply.body.trim(), curl[2]!.trim(), line);
      continue;
    }
    const command = /^npx tsgun (\S.*)$/.exec(line);
    if (command) {
      const r = await runTsgun((await withPorts(command[1]!)).split(' '), {
        cwd: dir,
        timeoutMs: 30_000,
      });
      assert.equal(r.code, 0, `${line}: ${r.stderr}`);
      continue;
    }
    assert.fail(`not a runnable line: ${line}`);
  }
  if (server !== undefined) {
    const { code } = await server.exited;
    assert.equal(code, 0, server.stderrText);
  }
}

describe('the runnable blocks of the docs', () => {
  for (const page of ['docs/getting-started.md', 'docs/migrating.md']) {
    it(`${page}: every \`sh test\` block runs as shown`, async () => {
      const blocks = runnableBlocks(page);
      assert.ok(blocks.length > 0, `${page} has a runnable block`);
      for (const block of blocks) await runBlock(block);
    });
  }
});
