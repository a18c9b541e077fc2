/**
 * What the registry is made of: the sections, a setting's declaration (SettingSpec), what the
 * registry derives from a setting's name (SettingDef: its environment variable), and the
 * defaults more than one section shares. The settings themselves are in settings/, one file per
 * group of sections; registry.ts puts them together.
 */
import type { Parser } from './parsers.js';

export const SECTIONS = [
  'App',
  'Server socket',
  'Worker processes',
  'Security',
  'Server mechanics',
  'TLS',
  'Router',
  'Logging',
  'Stats',
  'Scheduled jobs',
  'Development',
  'Server hooks',
  'Debugging',
] as const;
export type Section = (typeof SECTIONS)[number];

export type Env = Readonly<Record<string, string | undefined>>;

export interface SettingSpec<T> {
  readonly section: Section;
  /** CLI flags, short first: ['-w', '--workers']. Empty for the positional APP. */
  readonly flags: readonly string[];
  /** Placeholder shown in --help; absent for boolean switches. */
  readonly arg?: string;
  /** Switches that only make sense on a command line (--check-config) have no file/env form. */
  readonly cliOnly?: boolean;
  /** Only a config file can give it (functions: the server hooks). */
  readonly fileOnly?: boolean;
  readonly repeatable?: boolean;
  readonly default: NoInfer<T> | ((env: Env) => NoInfer<T>);
  /** How the default reads in --help and docs/settings.md when it is computed. */
  readonly defaultDoc?: string;
  readonly parse: Parser<T>;
  format?(value: T): unknown;
  readonly help: string;
  /** Whether a HUP may change it (re-read by new workers) or it needs a restart. */
  readonly hup: boolean;
}

/** A declaration and what the registry derives from the setting's name. */
export interface SettingDef<T> extends SettingSpec<T> {
  /**
   * Environment variable read for this setting (besides TSGUN_CMD_ARGS): TSGUN_ and the name in
   * upper snake case, for every setting that is neither CLI-only nor file-only.
   */
  readonly env?: string;
}

/** The one rule from a setting's name to its variable: workerConnections -> TSGUN_WORKER_CONNECTIONS. */
export function envName(name: string): string {
  return `TSGUN_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

/** One setting: its value type is inferred from its parser, the only place it is stated. */
export function setting<T>(spec: SettingSpec<T>): SettingSpec<T> {
  return spec;
}

/** A setting's value type: what its parser returns. */
export type ValueOf<S> = S extends { readonly parse: Parser<infer T> } ? T : never;
export type Defs<R> = { readonly [K in keyof R]: SettingDef<ValueOf<R[K]>> };

/** Adds what each setting's name decides: its environment variable. */
export function defineRegistry<R>(specs: R): Defs<R> {
  const defs: Record<string, SettingDef<unknown>> = {};
  for (const [name, spec] of Object.entries(specs as object) as [string, SettingSpec<unknown>][])
    defs[name] = spec.cliOnly || spec.fileOnly ? spec : { ...spec, env: envName(name) };
  return defs as Defs<R>;
}

/** --forwarded-allow-ips by default: the peers on this host (Gunicorn's default and ::1). */
export const LOCAL_PEERS: readonly string[] = ['127.0.0.1', '::1'];
