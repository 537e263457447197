import type { z } from 'zod';
import { reasonedString } from './issues';
import type { ReasonCode } from './reasons';

export type TimeReason = Extract<ReasonCode, 'TIME_INVALID' | 'TIME_NO_OFFSET'>;

export type InstantResult = { ok: true; ms: number } | { ok: false; reason: TimeReason };

// SPEC §2/§3: an explicit offset (Z or ±hh:mm) is required, because a device-local time
// without one cannot be placed on a service day. Fractions are accepted up to milliseconds,
// the precision the file is sorted by; finer digits would be silently lost.
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?(Z|([+-])(\d{2}):(\d{2}))?$/;

const MINUTE_MS = 60_000;

/** Parses `YYYY-MM-DDTHH:mm:ss[.sss](Z|±hh:mm)` to epoch milliseconds. */
export function parseOffsetDateTime(input: string): InstantResult {
  const m = DATE_TIME.exec(input);
  if (m === null) return { ok: false, reason: 'TIME_INVALID' };
  const [, y, mo, d, h, mi, s, frac, offset, sign, oh, om] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  // Leap seconds (:60) are rejected: Date cannot represent them and devices do not emit them.
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    return { ok: false, reason: 'TIME_INVALID' };
  }
  if (hour > 23 || minute > 59 || second > 59) return { ok: false, reason: 'TIME_INVALID' };
  if (offset === undefined) return { ok: false, reason: 'TIME_NO_OFFSET' };
  const offsetHours = Number(oh ?? 0);
  const offsetMins = Number(om ?? 0);
  if (offsetHours > 23 || offsetMins > 59) return { ok: false, reason: 'TIME_INVALID' };
  const offsetMinutes = (sign === '-' ? -1 : 1) * (offsetHours * 60 + offsetMins);
  const millis = frac === undefined ? 0 : Number(frac.padEnd(3, '0'));
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map years 0-99 to 1900-1999.
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, millis);
  return { ok: true, ms: date.getTime() - offsetMinutes * MINUTE_MS };
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

// SPEC §2: Türkiye has kept UTC+3 all year since 2016, so the service day is a fixed shift,
// not a tz-database lookup (which would also make the result depend on the host's ICU data).
export const ISTANBUL_OFFSET_MS = 3 * 60 * MINUTE_MS;

/** SPEC §2: a tap more than this after its Kafka message timestamp is dead-lettered (CLOCK_DRIFT_FUTURE). */
export const MAX_CLOCK_AHEAD_MS = 10 * MINUTE_MS;

const SERVICE_DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The instant service day `YYYY-MM-DD` starts (00:00+03:00); throws RangeError on a bad date. */
export function serviceDayStartMs(day: string): number {
  const m = SERVICE_DAY.exec(day);
  if (m === null) throw new RangeError(`day must be YYYY-MM-DD, got "${day}"`);
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) - ISTANBUL_OFFSET_MS;
  // Date.UTC rolls 2020-02-30 over into March; a round trip catches that.
  if (new Date(ms + ISTANBUL_OFFSET_MS).toISOString().slice(0, 10) !== day) {
    throw new RangeError(`day ${day} is not a calendar date`);
  }
  return ms;
}

/** A real calendar date as `YYYY-MM-DD` (2020-02-30 is not). */
export function isCalendarDay(value: string): boolean {
  try {
    serviceDayStartMs(value);
    return true;
  } catch {
    return false;
  }
}

/** The Europe/Istanbul calendar date (`YYYY-MM-DD`) of an instant; throws RangeError if not finite. */
export function serviceDayOf(epochMs: number): string {
  if (!Number.isFinite(epochMs)) throw new RangeError('serviceDayOf: epochMs must be a finite number');
  return new Date(epochMs + ISTANBUL_OFFSET_MS).toISOString().slice(0, 10);
}

export const TIME_REASON_MESSAGES: Readonly<Record<TimeReason, string>> = {
  TIME_INVALID: 'must be an ISO 8601 date-time such as 2020-11-20T08:15:42.120+03:00',
  TIME_NO_OFFSET: 'must end in Z or a +hh:mm offset',
};

/** A string field holding an instant; keeps the text as sent beside its epoch milliseconds. */
export const OffsetDateTime = reasonedString((input) => {
  const result = parseOffsetDateTime(input);
  return result.ok
    ? { ok: true, value: { iso: input, ms: result.ms } }
    : { ok: false, reason: result.reason, message: TIME_REASON_MESSAGES[result.reason] };
});
export type OffsetDateTime = z.infer<typeof OffsetDateTime>;
