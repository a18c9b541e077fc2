import type { Config } from '../config/registry.js';
import type { RetireReason } from '../ipc/protocol.js';

const MIB = 1024 * 1024;

/**
 * Worker-side recycling triggers (--max-worker-lifetime, --reload-on-rss). A worker only asks to
 * be replaced; the master decides when, one batch at a time, after the replacement is ready.
 */
export function startRecycling(
  config: Pick<Config, 'maxWorkerLifetime' | 'maxWorkerLifetimeJitter' | 'reloadOnRss'>,
  retire: (reason: RetireReason, detail: string) => void,
): void {
  if (config.maxWorkerLifetime > 0) {
    const seconds = config.maxWorkerLifetime + Math.random() * config.maxWorkerLifetimeJitter;
    setTimeout(
      () => retire('lifetime', `ran for ${seconds.toFixed(1)} s (--max-worker-lifetime)`),
      seconds * 1000,
    ).unref();
  }
  if (config.reloadOnRss > 0) {
    const timer = setInterval(() => {
      const rss = process.memoryUsage.rss();
      if (rss > config.reloadOnRss * MIB) {
        clearInterval(timer);
        retire(
          'rss',
          `resident memory ${Math.round(rss / MIB)} MiB exceeds --reload-on-rss ${config.reloadOnRss}`,
        );
      }
    }, 1000);
    timer.unref();
  }
}
