import { type FSWatcher, watch } from 'node:fs';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import type { Logger } from '../../log/logger.js';

const DEBOUNCE_MS = 300;
const IGNORED = /(^|[/\\])(node_modules|\.git)([/\\]|$)|(^|[/\\])\.[^/\\]*$/;

/** `*` within a path segment, `**` across segments, `?` one character. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
      if (glob[i + 1] === '/') i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** The directory to watch for a glob: everything before its first wildcard segment. */
export function globBase(glob: string): string {
  const parts = glob.split('/');
  const fixed: string[] = [];
  for (const part of parts) {
    if (/[*?]/.test(part)) break;
    fixed.push(part);
  }
  return fixed.join('/') || '.';
}

/**
 * --reload: watch the app's directory (and --reload-extra-file globs) and ask for a rolling reload
 * after changes settle. A reload whose new code does not load keeps the old workers serving (the
 * arbiter's boot-failure rule), so a typo in development costs no downtime.
 */
export function watchForReload(opts: {
  appModule: string;
  extra: readonly string[];
  logger: Logger;
  onChange: (file: string) => void;
}): () => void {
  const watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | null = null;
  let lastFile = '';
  const changed = (file: string) => {
    lastFile = file;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      opts.onChange(lastFile);
    }, DEBOUNCE_MS);
  };
  const add = (dir: string, accept: (file: string) => boolean) => {
    try {
      const watcher = watch(dir, { recursive: true }, (_event, name) => {
        if (!name) return;
        const file = join(dir, name.toString());
        if (!IGNORED.test(name.toString()) && accept(file)) changed(file);
      });
      watcher.on('error', (err) => opts.logger.warn({ err, dir }, 'reload watcher failed'));
      watchers.push(watcher);
    } catch (err) {
      opts.logger.warn({ err, dir }, `--reload cannot watch ${dir}`);
    }
  };
  add(dirname(resolve(opts.appModule)), () => true);
  for (const glob of opts.extra) {
    const absolute = isAbsolute(glob) ? glob : resolve(glob);
    const pattern = globToRegExp(absolute.split(sep).join('/'));
    add(resolve(globBase(absolute)), (file) => pattern.test(file.split(sep).join('/')));
  }
  opts.logger.info({ extra: opts.extra }, '--reload: watching the app directory for changes');
  return () => {
    if (timer) clearTimeout(timer);
    for (const w of watchers) w.close();
  };
}
