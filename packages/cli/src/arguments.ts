import { isCalendarDay } from '@boarding/contracts/time';
import { InvalidArgumentError } from 'commander';

/** A service day argument: YYYY-MM-DD and a real calendar date (2020-02-30 is refused). */
export function parseDay(value: string, what = '--day'): string {
  if (!isCalendarDay(value)) {
    throw new Error(`${what} must be a date as YYYY-MM-DD, got ${JSON.stringify(value.slice(0, 40))}`);
  }
  return value;
}

/**
 * A whole-number argument of at least `min` (and at most `max`): digits, `_` allowed as a
 * thousands separator (`200_000`). Anything else (`abc`, `1.5`, `-1`, `1e3`, beyond 2^53) is
 * refused with a clear error before any work, never passed on as NaN to a query.
 */
export function wholeNumber(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value: string) => {
    const n = /^\d[\d_]*$/.test(value) ? Number(value.replaceAll('_', '')) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(
        max === Number.MAX_SAFE_INTEGER
          ? `must be a whole number ≥ ${min}`
          : `must be a whole number from ${min} to ${max}`,
      );
    }
    return n;
  };
}
