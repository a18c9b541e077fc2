import { DirectMode } from './direct.js';
import type { DataPathMode, ModeOptions } from './mode.js';
import type { ProxyLayer } from './proxy-layer.js';
import { RouterMode } from './router.js';

/** The mode the config asks for, and its proxy layer (router mode only). */
export function createMode(opts: ModeOptions): {
  readonly mode: DataPathMode;
  readonly proxy: ProxyLayer | null;
} {
  if (!opts.config.router) return { mode: new DirectMode(opts), proxy: null };
  const router = new RouterMode(opts);
  return { mode: router, proxy: router };
}
