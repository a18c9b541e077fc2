import { type CrashStreak, nextCrashStreak } from '../decisions/plan.js';

/**
 * When the arbiter may fork again. Each crash (or failed fork) extends the streak and holds spawns
 * for its backoff (plan.ts decides how long), so a crashing app or a process limit never becomes
 * a tight fork loop.
 */
export class CrashBackoff {
  private streak: CrashStreak = {
    count: 0,
    lastCrashAt: Number.NEGATIVE_INFINITY,
    resumeAt: Number.NEGATIVE_INFINITY,
  };
  private nextSpawnAt = 0;

  constructor(private readonly wake: () => void) {}

  /** Whether a spawn may happen now. */
  open(now: number): boolean {
    return now >= this.nextSpawnAt;
  }

  /** No spawn at all until the next backoff is set (a failed fork is reported on a later tick). */
  hold(): void {
    this.nextSpawnAt = Number.POSITIVE_INFINITY;
  }

  /** Count one crash (or failed fork) in the streak and hold spawns for its backoff. */
  backoff(): number {
    const { streak, delayMs } = nextCrashStreak(this.streak, Date.now());
    this.streak = streak;
    this.nextSpawnAt = Date.now() + delayMs;
    setTimeout(() => this.wake(), delayMs);
    return delayMs;
  }

  /** When spawns may happen again (0: now; Infinity: a failed fork is being reported). */
  get resumeAt(): number {
    return this.nextSpawnAt;
  }

  /** Crashes in the current streak. */
  get count(): number {
    return this.streak.count;
  }
}
