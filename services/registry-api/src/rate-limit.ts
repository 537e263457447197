import { createHmac, randomBytes } from 'node:crypto';

export type RateDecision = { ok: true } | { ok: false; retryAfterSeconds: number };

/**
 * A fixed-window counter per key, in this process (SPEC §9: rate limits per API key and per TC
 * kimlik no). Enough for one API process; several replicas would each allow `limit` (noted in the
 * README). Memory is bounded by the keys seen in one window: a window is (re)inserted when it
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

/**
 * The per-TC limiter's key: an HMAC of the TC under a random key of this process, so the limiter's
 * memory never holds a TC in clear and its keys cannot be reversed by trying all 10^10 numbers.
 */
export function tcLimiterKey(secret: Buffer, tcKimlikNo: string): string {
  return createHmac('sha256', secret).update(tcKimlikNo).digest('base64url');
}

export const newLimiterSecret = (): Buffer => randomBytes(32);

export type RateLimits = { perKeyPerMinute: number; perTcPerHour: number };

/** The two limiters of SPEC §9, built from the settings. */
export function createRateLimiters(limits: RateLimits, now?: () => number) {
  const secret = newLimiterSecret();
  const perKey = new FixedWindowLimiter({ limit: limits.perKeyPerMinute, windowMs: 60_000, now });
  const perTc = new FixedWindowLimiter({ limit: limits.perTcPerHour, windowMs: 3_600_000, now });
  return {
    key: (keyId: string) => perKey.take(keyId),
    tc: (tcKimlikNo: string) => perTc.take(tcLimiterKey(secret, tcKimlikNo)),
  };
}
export type RateLimiters = ReturnType<typeof createRateLimiters>;
