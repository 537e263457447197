import { withTimeout } from '@boarding/lifecycle/time-limit';

/**
 * `work`, or a failure naming the wait if it has not settled within `ms`: a test of something
 * that must not hang then fails with a clear message instead of jest's timeout (and never
 * measures speed: `ms` is a generous bound). `work` is left running on the failure; its late
 * rejection is kept handled.
 */
export function settleWithin<T>(ms: number, work: Promise<T>, what = 'the operation'): Promise<T> {
  return withTimeout(ms, work, () => new Error(`${what} was still pending after ${ms} ms`));
}
