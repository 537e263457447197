/**
 * Calendar dates and wall-clock times in a named time zone, computed with Intl (the zone's rules
 * from the ICU data), never with a fixed offset: Europe/Istanbul is UTC+3 today, but was not
 * before 2016, and the same code must be right for any zone EXPORT_TZ names.
 *
 * Days are `YYYY-MM-DD` strings, times of day `HH:mm`; instants are `Date`s.
 */

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;
const DAY_MS = 86400000;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
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

type WallClock = { year: number; month: number; day: number; hour: number; minute: number; second: number };

function wallClock(instant: Date, timeZone: string): WallClock {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(instant)) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return {
    year: parts.year ?? Number.NaN,
    month: parts.month ?? Number.NaN,
    day: parts.day ?? Number.NaN,
    hour: parts.hour ?? Number.NaN,
    minute: parts.minute ?? Number.NaN,
    second: parts.second ?? Number.NaN,
  };
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

function parseDay(day: string): [number, number, number] {
  const m = DAY.exec(day);
  if (!m) throw new RangeError(`not a day as YYYY-MM-DD: ${JSON.stringify(day)}`);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(Date.UTC(y, mo - 1, d));
  if (t.getUTCFullYear() !== y || t.getUTCMonth() !== mo - 1 || t.getUTCDate() !== d) {
    throw new RangeError(`not a calendar day: ${day}`);
  }
  return [y, mo, d];
}

function formatDay(utcMidnight: number): string {
  return new Date(utcMidnight).toISOString().slice(0, 10);
}

/** The calendar date of `instant` on a wall clock in `timeZone`. */
export function calendarDateIn(instant: Date, timeZone: string): string {
  const w = wallClock(instant, timeZone);
  return formatDay(Date.UTC(w.year, w.month - 1, w.day));
}

/** `day` moved by `days` calendar days (negative: back). */
export function addDays(day: string, days: number): string {
  const [y, m, d] = parseDay(day);
  return formatDay(Date.UTC(y, m - 1, d) + days * DAY_MS);
}

/** How far `timeZone`'s wall clock is ahead of UTC at `instant`, in ms (whole seconds). */
export function utcOffsetMs(instant: Date, timeZone: string): number {
  const w = wallClock(instant, timeZone);
  const wallAsUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return wallAsUtc - Math.floor(instant.getTime() / 1000) * 1000;
}

/**
 * The instant a wall clock in `timeZone` shows `time` on `day`. Where the zone skips that time
 * (a spring-forward gap) the clock is read with the offset from before the gap, i.e. the instant
 * the same length of time after the gap began (Temporal's "compatible"); where the time occurs
 * twice (fall back) the earlier one. Assumes at most one offset change within a day either side.
 */
export function zonedInstant(day: string, time: string, timeZone: string): Date {
  const [y, mo, d] = parseDay(day);
  const t = TIME.exec(time);
  if (!t) throw new RangeError(`not a time as HH:mm: ${JSON.stringify(time)}`);
  const wallAsUtc = Date.UTC(y, mo - 1, d, Number(t[1]), Number(t[2]));
  const before = wallAsUtc - utcOffsetMs(new Date(wallAsUtc - DAY_MS), timeZone);
  const after = wallAsUtc - utcOffsetMs(new Date(wallAsUtc + DAY_MS), timeZone);
  const shows = (candidate: number) => {
    const w = wallClock(new Date(candidate), timeZone);
    return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) === wallAsUtc;
  };
  const valid = [before, after].filter(shows).sort((a, b) => a - b);
  return new Date(valid[0] ?? before);
}
