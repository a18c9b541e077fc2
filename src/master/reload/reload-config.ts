import { type Config, displayName, REGISTRY, SETTING_NAMES } from '../../config/registry.js';
import type { TlsMaterial } from '../../ipc/protocol.js';

/** What reading the TLS files named by the new config gave: material (or none), or why not. */
export type TlsReload =
  | { readonly ok: true; readonly tls: TlsMaterial | null }
  | { readonly ok: false; readonly error: string };

/** One line the master logs about the merge, in order. */
export interface ReloadNotice {
  readonly level: 'error' | 'warn';
  readonly fields: Readonly<Record<string, unknown>>;
  readonly message: string;
}

/**
 * HUP: the config a master runs with after a reload. Settings marked `hup` in the registry take
 * the new value; every other one keeps the running value (a warning says so when it changed: a
 * new bind or user needs a restart). When the new certificate files do not make a valid context,
 * the running ones are kept (new workers must still serve TLS). Pure: the files were read already.
 */
export function mergeReloadedConfig(
  running: Config,
  next: Config,
  tls: TlsReload,
): { config: Config; notices: ReloadNotice[] } {
  const merged: Record<string, unknown> = { ...next };
  const notices: ReloadNotice[] = [];
  if (!tls.ok) {
    notices.push({
      level: 'error',
      fields: { err: tls.error },
      message: `reload: ${tls.error}; keeping the current certificate`,
    });
    merged['certfile'] = running.certfile;
    merged['keyfile'] = running.keyfile;
    merged['caCerts'] = running.caCerts;
  }
  for (const name of SETTING_NAMES) {
    if (REGISTRY[name].hup) continue;
    if (JSON.stringify(next[name]) !== JSON.stringify(running[name])) {
      notices.push({
        level: 'warn',
        fields: { setting: displayName(name) },
        message: `reload: ${displayName(name)} changed but needs a restart; keeping the running value`,
      });
    }
    merged[name] = running[name];
  }
  return { config: Object.freeze(merged) as Config, notices };
}

/**
 * The worker count after a HUP. An operator's count (`tsgun scale N`, TTIN, TTOU) survives a
 * reload, as PM2's scale survives a deploy, unless the reload changes `workers` itself: then the
 * config's word is the newer one. Without an operator's count, the config's.
 */
export function targetAfterReload(facts: {
  readonly before: Config['workers'];
  readonly after: Config['workers'];
  /** The count an operator set since the last reload that took the config's (null: none). */
  readonly operator: number | null;
  readonly configured: number;
}): { readonly target: number; readonly keptOperator: boolean } {
  if (facts.operator !== null && facts.before === facts.after)
    return { target: facts.operator, keptOperator: true };
  return { target: facts.configured, keptOperator: false };
}
