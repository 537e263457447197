import { createRateLimiters, FixedWindowLimiter, tcLimiterKey } from './rate-limit';

describe('FixedWindowLimiter', () => {
  it('allows `limit` per window, then refuses with the seconds left, and opens again', () => {
    let now = 1_000_000;
    const limiter = new FixedWindowLimiter({ limit: 2, windowMs: 60_000, now: () => now });
    expect(limiter.take('k')).toEqual({ ok: true });
    expect(limiter.take('k')).toEqual({ ok: true });
    now += 15_500;
    expect(limiter.take('k')).toEqual({ ok: false, retryAfterSeconds: 45 });
    expect(limiter.take('other')).toEqual({ ok: true });
    now += 44_500;
    expect(limiter.take('k')).toEqual({ ok: true });
  });
});

describe('per-TC limiter key', () => {
  it('is a keyed hash: never the TC, stable for one secret, different across secrets', () => {
    const a = Buffer.alloc(32, 1);
    const b = Buffer.alloc(32, 2);
    expect(tcLimiterKey(a, '17291716060')).not.toContain('17291716060');
    expect(tcLimiterKey(a, '17291716060')).toBe(tcLimiterKey(a, '17291716060'));
    expect(tcLimiterKey(a, '17291716060')).not.toBe(tcLimiterKey(b, '17291716060'));
  });

  it('counts one TC across calls, separately from the key limit', () => {
    const limits = createRateLimiters({ perKeyPerMinute: 1, perTcPerHour: 1 }, () => 0);
    expect(limits.tc('17291716060').ok).toBe(true);
    expect(limits.tc('17291716060').ok).toBe(false);
    expect(limits.key('k1').ok).toBe(true);
    expect(limits.key('k1').ok).toBe(false);
  });
});
