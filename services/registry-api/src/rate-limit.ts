import type { Db } from '@boarding/db/client';
import type { Keyring } from '@boarding/encryption/keyring';
import { countTcAttempt, pruneTcAttempts } from '@boarding/registry/verbs/count-tc-attempt';

export type RateDecision = { ok: true } | { ok: false; retryAfterSeconds: number };

/**
 * A fixed-window counter per key, in this process (the per-API-key limit of SPEC §9). Memory is bounded by the keys seen in one window: a window is (re)inserted when it
 * opens, so the map is ordered by start time and expired windows are pruned from its front on
 * every take (amortised O(1), never a scan of the live keys on the request path).
 */
export class FixedWindowLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(private readonly options: { limit: number; windowMs: number; now?: () => number }) {}

  /** Keys with a window held (for tests and metrics). */
  get size(): number {
    return this.windows.size;
  }

  take(key: string): RateDecision {
    const now = this.options.now?.() ?? Date.now();
    const { limit, windowMs } = this.options;
    this.prune(now);
    let window = this.windows.get(key);
    if (window === undefined || now - window.start >= windowMs) {
      window = { start: now, count: 0 };
      // Delete first: a re-set key keeps its old place, and the map must stay in start order.
      this.windows.delete(key);
      this.windows.set(key, window);
    }
    if (window.count >= limit) {
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((window.start + windowMs - now) / 1000)) };
    }
    window.count++;
    return { ok: true };
  }

  /** Drops expired windows from the front; stops at the first live one (all later ones are newer). */
  private prune(now: number): void {
    for (const [key, window] of this.windows) {
      if (now - window.start < this.options.windowMs) return;
      this.windows.delete(key);
    }
  }
}

export type RateLimits = { perKeyPerMinute: number; perTcPerHour: number };

const TC_WINDOW_MS = 3_600_000;

/**
 * The two limiters of SPEC §9. Per key: in this process (a flood brake on a key, cheap on every
 * request; N replicas allow N times it, which the per-TC limit does not depend on). Per TC kimlik
 * no: counted in PostgreSQL (tc_attempts), so it holds across every API process: the limit that
 * stops a number being tried across cards must not multiply with the replicas.
 */
export function createRateLimiters(
  limits: RateLimits,
  tcStore: { db: Db; keyring: Keyring },
  now: () => Date = () => new Date(),
) {
  const perKey = new FixedWindowLimiter({
    limit: limits.perKeyPerMinute,
    windowMs: 60_000,
    now: () => now().getTime(),
  });
  // Ended windows are dropped once per window per process, by the first attempt in a new one: no
  // timer to stop, and the table holds at most the current and the previous hour.
  let prunedWindow = Number.NaN;
  const pruneOnce = async (windowStart: number) => {
    if (windowStart === prunedWindow) return;
    // Claimed before the DELETE, so requests arriving together at the hour run it once.
    prunedWindow = windowStart;
    try {
      await pruneTcAttempts({ ctx: tcStore, before: new Date(windowStart - TC_WINDOW_MS) });
    } catch {
      // Not this request's failure: the next attempt tries again.
      prunedWindow = Number.NaN;
    }
  };
  return {
    key: (keyId: string) => perKey.take(keyId),
    tc: async (tcKimlikNo: string) => {
      const decision = await countTcAttempt({
        ctx: { ...tcStore, now },
        input: { tcKimlikNo, limit: limits.perTcPerHour, windowMs: TC_WINDOW_MS },
      });
      await pruneOnce(Math.floor(now().getTime() / TC_WINDOW_MS) * TC_WINDOW_MS);
      return decision;
    },
  };
}
export type RateLimiters = ReturnType<typeof createRateLimiters>;
