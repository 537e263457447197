import { isCalendarDay } from '@boarding/contracts/time';

/** A service day argument: YYYY-MM-DD and a real calendar date (2020-02-30 is refused). */
export function parseDay(value: string, what = '--day'): string {
  if (!isCalendarDay(value)) {
    throw new Error(`${what} must be a date as YYYY-MM-DD, got ${JSON.stringify(value.slice(0, 40))}`);
  }
  return value;
}
