/**
 * The one rule from a key as written in a config file to a setting name, used by every process
 * that reads the file (the master's resolver, the worker's hooks): `worker-connections` (the
 * CLI's spelling), `worker_connections` (Gunicorn's) and `workerConnections` are one setting.
 */
export function canonicalKey(key: string): string {
  return key.replace(/[-_]([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}
