import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { MAX_WORKERS } from '../../ipc/control.js';
import type { Logger } from '../../log/logger.js';

/** What the kernel says about this process's CPU budget; read by readCpuFacts, decided purely. */
export interface CpuFacts {
  /** cgroup v2 `cpu.max` ("max 100000" or "200000 100000"), or null. */
  readonly cpuMax: string | null;
  /** cgroup v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us` (quota -1 = none), or null. */
  readonly cfsQuota: number | null;
  readonly cfsPeriod: number | null;
  /** os.availableParallelism(): CPUs this process may be scheduled on (affinity aware). */
  readonly available: number;
  /** WEB_CONCURRENCY, which wins when set. */
  readonly webConcurrency: string | undefined;
}

/**
 * `-w auto`: the CPUs this process may really use. A container's CPU quota (cgroup v2 cpu.max, or
 * v1 cfs quota/period), rounded up, capped by the CPUs it may run on. Most tools use
 * os.cpus().length, which ignores quotas: a 2-CPU pod on a 64-core node would get 64 workers.
 */
export function autoWorkers(f: CpuFacts): { workers: number; how: string } {
  const wc = Number(f.webConcurrency);
  if (f.webConcurrency && Number.isInteger(wc) && wc >= 1)
    return { workers: wc, how: `WEB_CONCURRENCY=${wc}` };
  let quota: number | null = null;
  let source = '';
  const v2 = f.cpuMax?.trim().split(/\s+/);
  if (v2 && v2[0] !== 'max' && Number(v2[0]) > 0 && Number(v2[1]) > 0) {
    quota = Number(v2[0]) / Number(v2[1]);
    source = `cgroup v2 cpu.max ${v2[0]}/${v2[1]}`;
  } else if (f.cfsQuota !== null && f.cfsQuota > 0 && f.cfsPeriod !== null && f.cfsPeriod > 0) {
    quota = f.cfsQuota / f.cfsPeriod;
    source = `cgroup v1 cfs quota ${f.cfsQuota}/${f.cfsPeriod}`;
  }
  if (quota === null)
    return {
      workers: Math.max(1, f.available),
      how: `no CPU quota; ${f.available} available CPU(s)`,
    };
  const workers = Math.max(1, Math.min(Math.ceil(quota), f.available));
  return {
    workers,
    how: `${source} = ${quota.toFixed(2)} CPU(s), rounded up, capped by ${f.available} available`,
  };
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}

/** The cgroup files of this process (Linux), wherever the hierarchy is mounted in the usual place. */
export function readCpuFacts(env: NodeJS.ProcessEnv): CpuFacts {
  const cgroup = read('/proc/self/cgroup') ?? '';
  const v2Path = /^0::(.*)$/m.exec(cgroup)?.[1];
  const cpuMax =
    v2Path !== undefined
      ? (read(`/sys/fs/cgroup${v2Path === '/' ? '' : v2Path}/cpu.max`) ??
        read('/sys/fs/cgroup/cpu.max'))
      : null;
  const v1 = /^\d+:[^:]*\bcpu\b[^:]*:(.*)$/m.exec(cgroup)?.[1];
  const v1Dir = ['/sys/fs/cgroup/cpu,cpuacct', '/sys/fs/cgroup/cpu'].find(
    (d) => read(`${d}/cpu.cfs_quota_us`) !== null,
  );
  const at = (file: string) => {
    if (!v1Dir) return null;
    const value = read(`${v1Dir}${v1 && v1 !== '/' ? v1 : ''}/${file}`) ?? read(`${v1Dir}/${file}`);
    return value === null ? null : Number(value);
  };
  return {
    cpuMax,
    cfsQuota: at('cpu.cfs_quota_us'),
    cfsPeriod: at('cpu.cfs_period_us'),
    available: availableParallelism(),
    webConcurrency: env['WEB_CONCURRENCY'],
  };
}

/** -w as a number: auto is resolved from the kernel's view of this process, and the log says how. */
export function workerCount(setting: number | 'auto', logger: Logger): number {
  if (setting !== 'auto') return setting;
  const auto = autoWorkers(readCpuFacts(process.env));
  const workers = Math.min(auto.workers, MAX_WORKERS);
  const how = workers < auto.workers ? `${auto.how}; at most ${MAX_WORKERS}` : auto.how;
  logger.info({ workers, how }, `-w auto: ${workers} worker(s) (${how})`);
  return workers;
}
