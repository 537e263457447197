import { normaliseCardNo } from '@boarding/contracts/card-no';
import { isCalendarDay, parseOffsetDateTime } from '@boarding/contracts/time';
import { InvalidArgumentError } from 'commander';

/** A service day argument: YYYY-MM-DD and a real calendar date (2020-02-30 is refused). */
export function parseDay(value: string, what = '--day'): string {
  if (!isCalendarDay(value)) {
    throw new UsageError(`${what} must be a date as YYYY-MM-DD, got ${JSON.stringify(value.slice(0, 40))}`);
  }
  return value;
}

/** The longest --from/--to range a command runs day by day (two months). */
export const MAX_RANGE_DAYS = 62;

/**
 * The service days a command runs: `--day D` alone, or `--from A --to B` (both included, oldest
 * first, at most MAX_RANGE_DAYS). Service days are calendar dates (Europe/Istanbul has no DST),
 * so the range is counted on UTC dates.
 */
export function parseDays(options: { day?: string; from?: string; to?: string }): string[] {
  const { day, from, to } = options;
  if (day !== undefined) {
    if (from !== undefined || to !== undefined)
      throw new UsageError('give --day, or --from and --to, not both');
    return [parseDay(day)];
  }
  if (from === undefined || to === undefined) throw new UsageError('give --day D, or --from D1 --to D2');
  const first = Date.parse(`${parseDay(from, '--from')}T00:00:00Z`);
  const last = Date.parse(`${parseDay(to, '--to')}T00:00:00Z`);
  if (last < first) throw new UsageError(`--to ${to} is before --from ${from}`);
  const count = (last - first) / 86_400_000 + 1;
  if (count > MAX_RANGE_DAYS) {
    throw new UsageError(`--from ${from} --to ${to} is ${count} days; at most ${MAX_RANGE_DAYS} at a time`);
  }
  return Array.from({ length: count }, (_, i) => new Date(first + i * 86_400_000).toISOString().slice(0, 10));
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

/** A malformed argument: the command prints it and exits 2 (usage), never 1 (a failed run). */
export class UsageError extends Error {
  readonly code = 'USAGE';
}

/** A card number as SPEC §2 has it (trimmed, upper-cased, 8–20 hex); the value is not echoed. */
export function parseCardNo(value: string, what = '--card'): string {
  const result = normaliseCardNo(value);
  if (!result.ok) throw new UsageError(`${what} must be 8-20 characters of 0-9 A-F`);
  return result.value;
}

/** An instant as ISO 8601 with an offset (`Z` or `+03:00`): a bare local time is ambiguous. */
export function parseInstant(value: string, what: string): Date {
  const result = parseOffsetDateTime(value.trim());
  if (!result.ok) {
    throw new UsageError(
      `${what} must be an ISO 8601 instant with an offset, e.g. 2020-11-20T08:15:00+03:00 or …Z`,
    );
  }
  return new Date(result.ms);
}
