import { FixedWindowLimiter } from './rate-limit';

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

  it('holds only the windows of the last period however many distinct keys arrive (no unbounded growth)', () => {
    let now = 0;
    const limiter = new FixedWindowLimiter({ limit: 1, windowMs: 1_000, now: () => now });
    // An attacker sending a new TC on every request, for 50 windows.
    for (let i = 0; i < 50_000; i++) {
      limiter.take(`tc-${i}`);
      now += 1;
    }
    expect(limiter.size).toBeLessThanOrEqual(1_000);
    now += 1_000;
    limiter.take('late');
    expect(limiter.size).toBe(1);
  });

  it('keeps start order when a key re-opens its window, so a live window is never pruned early', () => {
    let now = 0;
    const limiter = new FixedWindowLimiter({ limit: 1, windowMs: 1_000, now: () => now });
    limiter.take('a');
    now = 500;
    limiter.take('b');
    now = 1_200; // a's window expired, b's is live: a re-opens and moves behind b
    expect(limiter.take('a')).toEqual({ ok: true });
    now = 1_600; // b expires; a (opened at 1200) must survive the prune and still refuse
    expect(limiter.take('a')).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect(limiter.size).toBe(1);
  });
});
