import type { z } from 'zod';
import { reasonedString } from './issues';
import type { ReasonCode } from './reasons';

// The one time model of the pipeline. Instants are epoch milliseconds (or `Date`s at the edges
// that speak Date), days are `YYYY-MM-DD`, times of day `HH:mm`. A wall clock in a named zone is
// read with that zone's rules from the platform's Intl (ICU) data; the service zone alone takes
// a fixed-offset fast path where its rules are one constant offset.

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
/** 24 hours of elapsed time. A calendar day in a zone with summer time may last 23 or 25. */
export const DAY_MS = 24 * HOUR_MS;

/** SPEC §2: the service day is the calendar date of `tappedAt` in this zone. */
export const SERVICE_TIME_ZONE = 'Europe/Istanbul';

// Türkiye has kept UTC+3 all year since 2016-09-07 (summer time made permanent; the clocks had
// already been at +3 since 27 March). From then on the service zone is this constant: the
// ingest asks for ~2 M service days a day, and the answer must not hang on the host's ICU data.
// Before it the zone had summer time (+2/+3, some switches moved by decree), read from Intl.
export const ISTANBUL_OFFSET_MS = 3 * HOUR_MS;
/** 2016-09-07T00:00+03:00: the first instant the fixed offset stands for SERVICE_TIME_ZONE. */
const FIXED_OFFSET_SINCE_MS = Date.UTC(2016, 8, 7) - ISTANBUL_OFFSET_MS;

/** SPEC §2: a tap more than this after its Kafka message timestamp is dead-lettered (CLOCK_DRIFT_FUTURE). */
export const MAX_CLOCK_AHEAD_MS = 10 * MINUTE_MS;

/** SPEC §2: `MAX_TAP_AGE_DAYS` default: a tap (or heartbeat) this many days before its message timestamp is dead-lettered. */
export const DEFAULT_MAX_TAP_AGE_DAYS = 7;

export type TimeReason = Extract<ReasonCode, 'TIME_INVALID' | 'TIME_NO_OFFSET'>;

export type InstantResult = { ok: true; ms: number } | { ok: false; reason: TimeReason };

// SPEC §2/§3: an explicit offset (Z or ±hh:mm) is required, because a device-local time
// without one cannot be placed on a service day. Fractions are accepted up to milliseconds,
// the precision the file is sorted by; finer digits would be silently lost.
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?(Z|([+-])(\d{2}):(\d{2}))?$/;

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
  return { ok: true, ms: utcMs(year, month, day, hour, minute, second) + millis - offsetMinutes * MINUTE_MS };
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** A UTC wall-clock reading as epoch ms; setUTCFullYear, unlike Date.UTC, keeps years 0-99. */
function utcMs(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
): number {
  if (year >= 100) return Date.UTC(year, month - 1, day, hour, minute, second);
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  return date.getTime();
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME_OF_DAY = /^([01]\d|2[0-3]):([0-5]\d)$/;

/**
 * UTC midnight of `YYYY-MM-DD`; throws RangeError on a bad date. Date.UTC rolls 2020-02-30 over
 * into March, so a round trip catches that; it also reads years before 100 as 19xx, so those are
 * refused as well (no service day is that old).
 */
export function utcMidnightOf(day: string): number {
  const m = DAY.exec(day);
  if (m === null) throw new RangeError(`day must be YYYY-MM-DD, got ${JSON.stringify(day)}`);
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (isoDay(ms) !== day) throw new RangeError(`day ${day} is not a calendar date`);
  return ms;
}

// The last whole-millisecond instant's UTC day and the instant that day starts at: the ingest
// asks for ~2 M service days a day, nearly all of them the same day, and formatting a Date for
// each was a twentieth of its parsing time.
let lastDayStart = Number.NaN;
let lastDay = '';

function isoDay(ms: number): string {
  // A fraction is cut toward zero by Date, which the day's bounds below do not model.
  if (!Number.isInteger(ms)) return new Date(ms).toISOString().slice(0, 10);
  if (ms >= lastDayStart && ms < lastDayStart + DAY_MS) return lastDay;
  const day = new Date(ms).toISOString().slice(0, 10);
  lastDayStart = ms - (((ms % DAY_MS) + DAY_MS) % DAY_MS);
  lastDay = day;
  return day;
}

/** A real calendar date as `YYYY-MM-DD` (2020-02-30 is not). */
export function isCalendarDay(value: string): boolean {
  try {
    utcMidnightOf(value);
    return true;
  } catch {
    return false;
  }
}

/** `day` moved by `days` calendar days (negative: back); throws RangeError on a bad date. */
export function addDays(day: string, days: number): string {
  return isoDay(utcMidnightOf(day) + days * DAY_MS);
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Is this a zone Intl knows by an IANA name (not a bare offset like `+03:00`)? */
export function isTimeZone(name: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(name)) return false;
  try {
    formatter(name);
    return true;
  } catch {
    return false;
  }
}

/** What a wall clock in `timeZone` shows at `ms` (whole seconds), read as if it were UTC. */
function wallClockAsUtcMs(ms: number, timeZone: string): number {
  const parts: Partial<Record<Intl.DateTimeFormatPartTypes, string>> = {};
  for (const p of formatter(timeZone).formatToParts(ms)) parts[p.type] = p.value;
  // en-US counts years before 1 AD as 1 BC, 2 BC, …; the proleptic calendar has 0, -1, ….
  const year = parts.era === 'BC' ? 1 - Number(parts.year) : Number(parts.year);
  return utcMs(
    year,
    Number(parts.month),
    Number(parts.day),
    Number(parts.hour),
    Number(parts.minute),
    Number(parts.second),
  );
}

// Intl shows the whole second an instant falls in, so the offset is taken against that second.
function offsetAtMs(ms: number, timeZone: string): number {
  if (timeZone === SERVICE_TIME_ZONE && ms >= FIXED_OFFSET_SINCE_MS) return ISTANBUL_OFFSET_MS;
  return wallClockAsUtcMs(ms, timeZone) - Math.floor(ms / 1000) * 1000;
}

/** How far `timeZone`'s wall clock is ahead of UTC at `instant`, in ms (whole seconds). */
export function utcOffsetMs(instant: Date, timeZone: string): number {
  return offsetAtMs(instant.getTime(), timeZone);
}

/** The calendar date of `instant` on a wall clock in `timeZone`. */
export function calendarDateIn(instant: Date, timeZone: string): string {
  const ms = instant.getTime();
  return isoDay(ms + offsetAtMs(ms, timeZone));
}

/** The Europe/Istanbul calendar date (`YYYY-MM-DD`) of an instant; throws RangeError if not finite. */
export function serviceDayOf(epochMs: number): string {
  if (!Number.isFinite(epochMs)) throw new RangeError('serviceDayOf: epochMs must be a finite number');
  return isoDay(epochMs + offsetAtMs(epochMs, SERVICE_TIME_ZONE));
}

/**
 * The instant a wall clock in `timeZone` shows the UTC-read reading `wallAsUtc`. Where the zone
 * skips that reading (a spring-forward gap) it is read with the offset from before the gap, i.e.
 * the instant the same length of time after the gap began (Temporal's "compatible"); where it
 * occurs twice (fall back) the earlier one. Assumes at most one offset change within a day
 * either side.
 */
function instantOfWallClock(wallAsUtc: number, timeZone: string): number {
  const fixed = wallAsUtc - ISTANBUL_OFFSET_MS;
  if (timeZone === SERVICE_TIME_ZONE && fixed >= FIXED_OFFSET_SINCE_MS) return fixed;
  const before = wallAsUtc - offsetAtMs(wallAsUtc - DAY_MS, timeZone);
  const after = wallAsUtc - offsetAtMs(wallAsUtc + DAY_MS, timeZone);
  const shows = (candidate: number) => candidate + offsetAtMs(candidate, timeZone) === wallAsUtc;
  const valid = [before, after].filter(shows).sort((a, b) => a - b);
  return valid[0] ?? before;
}

/**
 * The instant a wall clock in `timeZone` shows `time` (`HH:mm`) on `day`: a skipped time is read
 * with the offset from before the gap (so it lands as far past the gap's start), a repeated one
 * is the earlier of the two.
 */
export function zonedInstant(day: string, time: string, timeZone: string): Date {
  const midnight = utcMidnightOf(day);
  const t = TIME_OF_DAY.exec(time);
  if (t === null) throw new RangeError(`not a time as HH:mm: ${JSON.stringify(time)}`);
  return new Date(instantOfWallClock(midnight + Number(t[1]) * HOUR_MS + Number(t[2]) * MINUTE_MS, timeZone));
}

/**
 * The instant service day `YYYY-MM-DD` starts: 00:00 in SERVICE_TIME_ZONE (00:00+03:00 since
 * 2016; before, 00:00+02:00 in winter). Throws RangeError on a bad date.
 */
export function serviceDayStartMs(day: string): number {
  return instantOfWallClock(utcMidnightOf(day), SERVICE_TIME_ZONE);
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
