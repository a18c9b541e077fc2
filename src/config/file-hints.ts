/**
 * A config file gets the hints the command line gives for the same mistakes (src/cli/preflight.ts
 * has the CLI's): PM2's `instances: 'max'` and `watch`, a port written as a number where tsgun
 * wants an address. Pure: the resolver appends what these return to its one line per problem.
 */

/** PM2's instance count as tsgun's `workers`: max, 0 and -1 mean one per CPU, tsgun's auto. */
export function pm2Workers(value: string | undefined): string {
  return value === 'max' || value === '0' || value === '-1' ? 'auto' : (value ?? 'N');
}

const written = (value: unknown): string =>
  typeof value === 'string' ? `'${value}'` : (JSON.stringify(value) ?? String(value));

/** A number that can only be a port. */
const isPort = (v: unknown): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65535;

/**
 * The hint for a known key's bad value, as `: use ...`, or ''. `key` is the key as written in
 * the file; `name` the setting it names.
 */
export function fileValueHint(name: string, key: string, raw: unknown): string {
  if (name === 'workers' && typeof raw === 'string' && raw.trim().toLowerCase() === 'max')
    return `: use ${key}: 'auto' (one worker per CPU in the CPU budget, as PM2's max)`;
  if (name === 'bind') {
    if (isPort(raw))
      return `: use ${key}: ':${raw}' (an address is a string; ':PORT' is every IPv4 interface)`;
    if (Array.isArray(raw) && raw.some(isPort)) {
      const fixed = raw.map((v) => (isPort(v) ? `':${v}'` : written(v)));
      return `: use ${key}: [${fixed.join(', ')}] (an address is a string; ':PORT' is every IPv4 interface)`;
    }
  }
  return '';
}

/** The hint for a key tsgun does not know but PM2 (or a habit) spells this way, as `: ...`, or ''. */
export function fileKeyHint(key: string, raw: unknown): string {
  const k = key.toLowerCase();
  if (k === 'instances') {
    const n = raw === undefined || raw === null ? undefined : String(raw);
    return `: tsgun spells PM2's instances as workers: use workers: ${written(pm2Workers(n) === 'auto' ? 'auto' : raw)}`;
  }
  if (k === 'watch') return `: use reload: true (restart the workers when a source file changes)`;
  if (k === 'port') {
    const port = isPort(raw) || (typeof raw === 'string' && /^\d+$/.test(raw)) ? raw : 'PORT';
    return `: tsgun binds with bind: use bind: ':${port}'`;
  }
  if (k === 'host') {
    const host = typeof raw === 'string' && raw !== '' ? raw : 'HOST';
    return `: tsgun binds with bind: use bind: '${host}:PORT'`;
  }
  return '';
}
