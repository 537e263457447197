export type CircuitState = 'closed' | 'open' | 'half-open';

export type CircuitBreakerOptions = {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** How long the circuit stays open before one trial call is let through. */
  resetAfterMs: number;
  now?: () => number;
};

/** The circuit is open: the call was refused without reaching the dependency. */
export class CircuitOpenError extends Error {
  constructor() {
    super('circuit open: failing fast');
    this.name = 'CircuitOpenError';
  }
}

export type RejectionKind = 'failure' | 'answer' | 'neutral';

export type CircuitBreaker = {
  /**
   * Runs `call` unless the circuit is open. `judge` says what a rejection means: the dependency
   * failed, it answered (a "no" is an answer: like a success), or neither (the caller gave up).
   */
  run<T>(call: () => Promise<T>, judge: (err: unknown) => RejectionKind): Promise<T>;
  state(): CircuitState;
};

/**
 * closed → open after `failureThreshold` consecutive failures → half-open once `resetAfterMs`
 * have passed, when exactly one trial call goes through (others fail fast meanwhile): its success
 * closes the circuit, its failure opens it for another `resetAfterMs`. A dependency that is away
 * then costs callers nothing but a fast 503, and is not hammered while it recovers.
 */
export function createCircuitBreaker(options: CircuitBreakerOptions): CircuitBreaker {
  const { failureThreshold, resetAfterMs } = options;
  if (!Number.isInteger(failureThreshold) || failureThreshold < 1) {
    throw new RangeError('failureThreshold must be a whole number ≥ 1');
  }
  if (!(resetAfterMs > 0)) throw new RangeError('resetAfterMs must be > 0');
  const now = options.now ?? Date.now;
  let failures = 0;
  let openedAt: number | null = null;
  let trialInFlight = false;

  const state = (): CircuitState => {
    if (openedAt === null) return 'closed';
    return now() - openedAt >= resetAfterMs ? 'half-open' : 'open';
  };

  return {
    state,
    async run(call, judge) {
      const current = state();
      if (current === 'open' || (current === 'half-open' && trialInFlight)) throw new CircuitOpenError();
      const isTrial = current === 'half-open';
      if (isTrial) trialInFlight = true;
      try {
        const value = await call();
        failures = 0;
        openedAt = null;
        return value;
      } catch (err) {
        const kind = judge(err);
        if (kind === 'failure') {
          failures++;
          if (isTrial || failures >= failureThreshold) openedAt = now();
        } else if (kind === 'answer') {
          failures = 0;
          openedAt = null;
        }
        // 'neutral' (e.g. the caller aborted) tells nothing about the dependency: a half-open
        // circuit stays half-open and the next call is the trial.
        throw err;
      } finally {
        if (isTrial) trialInFlight = false;
      }
    },
  };
}
