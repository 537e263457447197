import { CircuitOpenError, createCircuitBreaker } from './circuit-breaker';

function clock(start = 1_000) {
  let t = start;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

const fail = () => Promise.reject(new Error('boom'));
const succeed = () => Promise.resolve('ok');
const always = () => 'failure' as const;

describe('circuit breaker', () => {
  it('stays closed while failures stay below the threshold, and a success resets the count', async () => {
    const c = clock();
    const breaker = createCircuitBreaker({ failureThreshold: 3, resetAfterMs: 100, now: c.now });
    await expect(breaker.run(fail, always)).rejects.toThrow('boom');
    await expect(breaker.run(fail, always)).rejects.toThrow('boom');
    await expect(breaker.run(succeed, always)).resolves.toBe('ok');
    await expect(breaker.run(fail, always)).rejects.toThrow('boom');
    await expect(breaker.run(fail, always)).rejects.toThrow('boom');
    expect(breaker.state()).toBe('closed');
  });

  it('opens after N consecutive failures and then fails fast without calling', async () => {
    const c = clock();
    const breaker = createCircuitBreaker({ failureThreshold: 2, resetAfterMs: 100, now: c.now });
    await expect(breaker.run(fail, always)).rejects.toThrow('boom');
    await expect(breaker.run(fail, always)).rejects.toThrow('boom');
    expect(breaker.state()).toBe('open');
    const fn = jest.fn(succeed);
    await expect(breaker.run(fn, always)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(fn).not.toHaveBeenCalled();
  });

  it('counts an answer that is a rejection as a success, and a neutral rejection as nothing', async () => {
    const c = clock();
    const breaker = createCircuitBreaker({ failureThreshold: 2, resetAfterMs: 100, now: c.now });
    await expect(breaker.run(fail, always)).rejects.toThrow('boom');
    await expect(breaker.run(fail, () => 'answer')).rejects.toThrow('boom');
    await expect(breaker.run(fail, always)).rejects.toThrow('boom');
    expect(breaker.state()).toBe('closed');
    await expect(breaker.run(fail, () => 'neutral')).rejects.toThrow('boom');
    await expect(breaker.run(fail, always)).rejects.toThrow('boom');
    expect(breaker.state()).toBe('open');
  });

  it('stays half-open when the trial ends neither way, so the next call is the trial', async () => {
    const c = clock();
    const breaker = createCircuitBreaker({ failureThreshold: 1, resetAfterMs: 100, now: c.now });
    await expect(breaker.run(fail, always)).rejects.toThrow('boom');
    c.advance(100);
    await expect(breaker.run(fail, () => 'neutral')).rejects.toThrow('boom');
    expect(breaker.state()).toBe('half-open');
    await expect(breaker.run(succeed, always)).resolves.toBe('ok');
    expect(breaker.state()).toBe('closed');
  });

  it('half-opens after resetAfterMs, lets one trial through, and closes when it succeeds', async () => {
    const c = clock();
    const breaker = createCircuitBreaker({ failureThreshold: 1, resetAfterMs: 100, now: c.now });
    await expect(breaker.run(fail, always)).rejects.toThrow('boom');
    c.advance(99);
    expect(breaker.state()).toBe('open');
    c.advance(1);
    expect(breaker.state()).toBe('half-open');

    let release: (v: string) => void = () => undefined;
    const trial = breaker.run(() => new Promise<string>((r) => (release = r)), always);
    // A second call while the trial is in flight fails fast: one probe at a time.
    const second = jest.fn(succeed);
    await expect(breaker.run(second, always)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(second).not.toHaveBeenCalled();
    release('ok');
    await expect(trial).resolves.toBe('ok');
    expect(breaker.state()).toBe('closed');
  });

  it('opens again for another resetAfterMs when the half-open trial fails', async () => {
    const c = clock();
    const breaker = createCircuitBreaker({ failureThreshold: 3, resetAfterMs: 100, now: c.now });
    for (let i = 0; i < 3; i++) await expect(breaker.run(fail, always)).rejects.toThrow('boom');
    c.advance(100);
    await expect(breaker.run(fail, always)).rejects.toThrow('boom');
    expect(breaker.state()).toBe('open');
    c.advance(50);
    await expect(breaker.run(succeed, always)).rejects.toBeInstanceOf(CircuitOpenError);
    c.advance(50);
    await expect(breaker.run(succeed, always)).resolves.toBe('ok');
    expect(breaker.state()).toBe('closed');
  });

  it('rejects settings that would make it meaningless', () => {
    expect(() => createCircuitBreaker({ failureThreshold: 0, resetAfterMs: 100 })).toThrow(RangeError);
    expect(() => createCircuitBreaker({ failureThreshold: 1, resetAfterMs: 0 })).toThrow(RangeError);
  });
});
