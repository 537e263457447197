import fc from 'fast-check';
import {
  addDays,
  calendarDateIn,
  DAY_MS,
  HOUR_MS,
  isCalendarDay,
  isTimeZone,
  MINUTE_MS,
  OffsetDateTime,
  parseOffsetDateTime,
  SERVICE_TIME_ZONE,
  serviceDayOf,
  serviceDayStartMs,
  utcOffsetMs,
  zonedInstant,
} from './time';

// The zone written out, not SERVICE_TIME_ZONE: the expected values below are Istanbul's.
const IST = 'Europe/Istanbul';

// An oracle apart from the code under test: Intl's own YYYY-MM-DD (en-CA) in the service zone.
const istanbulDate = new Intl.DateTimeFormat('en-CA', {
  timeZone: IST,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

describe('parseOffsetDateTime', () => {
  it.each([
    ['2020-11-20T08:15:42.120+03:00', '2020-11-20T05:15:42.120Z'],
    ['2020-11-20T08:15:42+03:00', '2020-11-20T05:15:42.000Z'],
    ['2020-11-20T05:15:42.1Z', '2020-11-20T05:15:42.100Z'],
    ['2020-11-20T05:15:42.12Z', '2020-11-20T05:15:42.120Z'],
    ['2020-11-20T00:30:00-02:30', '2020-11-20T03:00:00.000Z'],
    ['2020-11-20T05:15:42-00:00', '2020-11-20T05:15:42.000Z'],
    ['2020-02-29T23:59:59.999+03:00', '2020-02-29T20:59:59.999Z'],
    ['0050-06-01T00:00:00Z', '0050-06-01T00:00:00.000Z'],
  ])('reads %s as the instant %s', (input, utc) => {
    expect(parseOffsetDateTime(input)).toEqual({ ok: true, ms: Date.parse(utc) });
  });

  it.each(['2020-11-20T08:15:42.120', '2020-11-20T08:15:42'])(
    'reports TIME_NO_OFFSET for the local time %s',
    (input) => {
      expect(parseOffsetDateTime(input)).toEqual({ ok: false, reason: 'TIME_NO_OFFSET' });
    },
  );

  it.each([
    ['a date only', '2020-11-20'],
    ['a space separator', '2020-11-20 08:15:42+03:00'],
    ['no seconds', '2020-11-20T08:15+03:00'],
    ['microseconds', '2020-11-20T08:15:42.120123+03:00'],
    ['a compact offset', '2020-11-20T08:15:42+0300'],
    ['an hour-only offset', '2020-11-20T08:15:42+03'],
    ['a lower-case z', '2020-11-20T08:15:42z'],
    ['30 February', '2020-02-30T08:15:42+03:00'],
    ['29 February of a common year', '2021-02-29T08:15:42+03:00'],
    ['29 February 1900', '1900-02-29T08:15:42+03:00'],
    ['month 13', '2020-13-01T08:15:42+03:00'],
    ['day 0', '2020-11-00T08:15:42+03:00'],
    ['hour 24', '2020-11-20T24:00:00+03:00'],
    ['a leap second', '2016-12-31T23:59:60Z'],
    ['offset minutes 60', '2020-11-20T08:15:42+03:60'],
    ['surrounding spaces', ' 2020-11-20T08:15:42+03:00'],
    ['an epoch number as text', '1605849342120'],
    ['an empty string', ''],
  ])('reports TIME_INVALID for %s', (_case, input) => {
    expect(parseOffsetDateTime(input)).toEqual({ ok: false, reason: 'TIME_INVALID' });
  });

  it('reads back any instant written with any whole-minute offset', () => {
    const instant = fc.integer({
      min: Date.parse('1971-01-01T00:00:00Z'),
      max: Date.parse('2099-12-31T00:00:00Z'),
    });
    const offset = fc.integer({ min: -14 * 60, max: 14 * 60 });
    fc.assert(
      fc.property(instant, offset, (ms, offsetMinutes) => {
        const local = new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, 23);
        const abs = Math.abs(offsetMinutes);
        const hh = String(Math.floor(abs / 60)).padStart(2, '0');
        const mm = String(abs % 60).padStart(2, '0');
        const text = `${local}${offsetMinutes < 0 ? '-' : '+'}${hh}:${mm}`;
        expect(parseOffsetDateTime(text)).toEqual({ ok: true, ms });
      }),
    );
  });
});

describe('OffsetDateTime schema', () => {
  it('keeps the text as sent beside the epoch milliseconds', () => {
    expect(OffsetDateTime.parse('2020-11-20T08:15:42.120+03:00')).toEqual({
      iso: '2020-11-20T08:15:42.120+03:00',
      ms: Date.parse('2020-11-20T05:15:42.120Z'),
    });
  });
});

describe('serviceDayOf', () => {
  it('puts 20:59:59.999Z on the same Istanbul day and 21:00:00.000Z on the next', () => {
    expect(serviceDayOf(Date.parse('2020-11-20T20:59:59.999Z'))).toBe('2020-11-20');
    expect(serviceDayOf(Date.parse('2020-11-20T21:00:00.000Z'))).toBe('2020-11-21');
  });

  it('uses the Istanbul date whatever offset the device wrote', () => {
    const late = parseOffsetDateTime('2020-11-20T23:59:59.999+03:00');
    const early = parseOffsetDateTime('2020-11-20T00:00:00.000+03:00');
    const fromUtc = parseOffsetDateTime('2020-11-19T22:30:00Z');
    expect(late.ok && serviceDayOf(late.ms)).toBe('2020-11-20');
    expect(early.ok && serviceDayOf(early.ms)).toBe('2020-11-20');
    expect(fromUtc.ok && serviceDayOf(fromUtc.ms)).toBe('2020-11-20');
  });

  it('keeps UTC+3 in winter and summer alike', () => {
    expect(serviceDayOf(Date.parse('2020-01-15T21:00:00Z'))).toBe('2020-01-16');
    expect(serviceDayOf(Date.parse('2020-07-15T21:00:00Z'))).toBe('2020-07-16');
  });

  it('throws RangeError for a non-finite instant', () => {
    expect(() => serviceDayOf(Number.NaN)).toThrow(RangeError);
  });

  it('gives the day a fresh Date gives, whatever order instants come in (it remembers the last day)', () => {
    // Instants either side of Istanbul midnights, visited back and forth, and pseudo-random ones.
    const midnight = Date.parse('2020-11-20T21:00:00.000Z');
    const instants = [0, -1, 1, -DAY_MS, DAY_MS - 1, DAY_MS, -1, 0].map((d) => midnight + d);
    let x = 7;
    for (let i = 0; i < 2000; i++) {
      x = (x * 48271) % 2147483647;
      instants.push(Date.parse('2017-01-01T00:00:00Z') + (x % 4000) * HOUR_MS + (i % 3) - 1);
    }
    for (const ms of instants) {
      expect(serviceDayOf(ms)).toBe(new Date(ms + 3 * HOUR_MS).toISOString().slice(0, 10));
    }
  });

  it('reads days before 2016 with the summer time Istanbul had then: UTC+3 in summer, UTC+2 in winter', () => {
    expect(serviceDayOf(Date.parse('2010-06-30T20:59:59.999Z'))).toBe('2010-06-30');
    expect(serviceDayOf(Date.parse('2010-06-30T21:00:00.000Z'))).toBe('2010-07-01');
    // A fixed +03:00 would put 21:30Z on the 15th; in January 2010 Istanbul was at +02:00.
    expect(serviceDayOf(Date.parse('2010-01-14T21:30:00.000Z'))).toBe('2010-01-14');
    expect(serviceDayOf(Date.parse('2010-01-14T22:00:00.000Z'))).toBe('2010-01-15');
  });

  it('is the date Intl gives in Europe/Istanbul for any instant of 1900–2099', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2099, 11, 31) }), (ms) => {
        expect(serviceDayOf(ms)).toBe(istanbulDate.format(ms));
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps years before 100 and before the era (no 19xx, no 1 BC read as 1)', () => {
    expect(serviceDayOf(Date.parse('0050-06-01T12:00:00Z'))).toBe('0050-06-01');
    expect(serviceDayOf(Date.parse('-000010-06-01T12:00:00Z'))).toBe(
      new Date(Date.parse('-000010-06-01T12:00:00Z')).toISOString().slice(0, 10),
    );
  });
});

describe('serviceDayStartMs', () => {
  it('is midnight in Istanbul, 21:00 UTC the day before', () => {
    expect(serviceDayStartMs('2020-11-20')).toBe(Date.parse('2020-11-19T21:00:00Z'));
  });

  it.each(['2020-02-30', '2020-13-01', '20-11-20', '2020-11-20T00:00'])('refuses %s', (day) => {
    expect(() => serviceDayStartMs(day)).toThrow(RangeError);
  });

  it.each([
    ['2010-01-15', '2010-01-14T22:00:00.000Z', 'winter 2010 (UTC+2)'],
    ['2010-07-01', '2010-06-30T21:00:00.000Z', 'summer 2010 (UTC+3)'],
    ['2015-03-29', '2015-03-28T22:00:00.000Z', 'the day summer time began in 2015, at 03:00'],
    ['2015-03-30', '2015-03-29T21:00:00.000Z', 'the day after (23 hours later)'],
    ['2015-10-26', '2015-10-25T21:00:00.000Z', 'after the EU fall-back date 2015, which Türkiye skipped'],
    ['2015-11-09', '2015-11-08T22:00:00.000Z', 'after the fall-back moved to 8 November 2015 (election)'],
    ['2014-03-31', '2014-03-30T22:00:00.000Z', 'the spring-forward moved from 30 to 31 March 2014'],
    ['2014-04-01', '2014-03-31T21:00:00.000Z', 'the day after it'],
    ['2011-03-28', '2011-03-27T22:00:00.000Z', 'the spring-forward moved from 27 to 28 March 2011'],
    ['2012-10-28', '2012-10-27T21:00:00.000Z', 'the fall-back day of 2012 (starts at UTC+3)'],
    ['2012-10-29', '2012-10-28T22:00:00.000Z', 'the day after (25 hours later)'],
    ['2016-09-06', '2016-09-05T21:00:00.000Z', 'the last day read through Intl'],
    ['2016-09-07', '2016-09-06T21:00:00.000Z', 'the first day of the fixed offset'],
  ])('starts %s at %s: %s', (day, start) => {
    expect(serviceDayStartMs(day)).toBe(Date.parse(start));
  });

  it('starts each day of 1900–2099 at the first instant whose service day it is', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 73_000 }), (n) => {
        const day = addDays('1900-01-01', n);
        const start = serviceDayStartMs(day);
        expect(serviceDayOf(start)).toBe(day);
        expect(serviceDayOf(start - 1)).toBe(addDays(day, -1));
        expect(istanbulDate.format(start)).toBe(day);
        expect(istanbulDate.format(start - 1)).toBe(addDays(day, -1));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('isCalendarDay', () => {
  it('accepts real dates and refuses rolled-over or malformed ones', () => {
    expect(isCalendarDay('2020-02-29')).toBe(true);
    expect(isCalendarDay('2010-01-15')).toBe(true);
    expect(isCalendarDay('2021-02-29')).toBe(false);
    expect(isCalendarDay('2020-11-20T00:00')).toBe(false);
    expect(isCalendarDay('0050-06-01')).toBe(false);
  });
});

describe('time constants', () => {
  it('names the service zone once, a zone Intl knows, and the lengths of a minute, an hour, a day', () => {
    expect(SERVICE_TIME_ZONE).toBe('Europe/Istanbul');
    expect(isTimeZone(SERVICE_TIME_ZONE)).toBe(true);
    expect([MINUTE_MS, HOUR_MS, DAY_MS]).toEqual([60_000, 3_600_000, 86_400_000]);
  });
});

describe('calendarDateIn', () => {
  it('turns the Istanbul date at midnight local (21:00Z), not at midnight UTC', () => {
    expect(calendarDateIn(new Date('2020-11-20T20:59:59.999Z'), IST)).toBe('2020-11-20');
    expect(calendarDateIn(new Date('2020-11-20T21:00:00.000Z'), IST)).toBe('2020-11-21');
    expect(calendarDateIn(new Date('2020-11-20T23:30:00.000Z'), IST)).toBe('2020-11-21');
    expect(calendarDateIn(new Date('2020-11-20T23:30:00.000Z'), 'UTC')).toBe('2020-11-20');
  });

  it('crosses the year on the local clock', () => {
    expect(calendarDateIn(new Date('2020-12-31T21:30:00Z'), IST)).toBe('2021-01-01');
    expect(calendarDateIn(new Date('2020-12-31T20:30:00Z'), IST)).toBe('2020-12-31');
  });

  it('follows the zone west of UTC too', () => {
    expect(calendarDateIn(new Date('2020-11-21T03:59:00Z'), 'America/New_York')).toBe('2020-11-20');
  });
});

describe('addDays', () => {
  it('moves across month, year and leap-day boundaries', () => {
    expect(addDays('2021-01-01', -1)).toBe('2020-12-31');
    expect(addDays('2020-03-01', -1)).toBe('2020-02-29');
    expect(addDays('2021-03-01', -1)).toBe('2021-02-28');
    expect(addDays('2020-11-20', 7)).toBe('2020-11-27');
    expect(addDays('2020-11-20', 0)).toBe('2020-11-20');
    // Either side of 1970-01-01 (negative instants), back and forth.
    expect(addDays('1970-01-01', -1)).toBe('1969-12-31');
    expect(addDays('1969-12-31', 1)).toBe('1970-01-01');
    expect(addDays('1969-12-31', 0)).toBe('1969-12-31');
    expect(addDays('1970-01-02', -2)).toBe('1969-12-31');
  });

  it('refuses what is not a calendar day', () => {
    expect(() => addDays('2020-02-30', 1)).toThrow(RangeError);
    expect(() => addDays('20201120', 1)).toThrow(RangeError);
  });
});

describe('zonedInstant', () => {
  it('reads 06:00 Istanbul as 03:00Z today (UTC+3 since 2016)', () => {
    expect(zonedInstant('2020-11-21', '06:00', IST).toISOString()).toBe('2020-11-21T03:00:00.000Z');
    expect(zonedInstant('2021-01-01', '00:00', IST).toISOString()).toBe('2020-12-31T21:00:00.000Z');
  });

  it('uses the rules of the date, not a constant: Istanbul had summer time until 2016', () => {
    expect(utcOffsetMs(new Date('2015-07-01T00:00:00Z'), IST)).toBe(3 * 3600000);
    expect(utcOffsetMs(new Date('2015-12-01T00:00:00Z'), IST)).toBe(2 * 3600000);
    expect(zonedInstant('2015-07-01', '06:00', IST).toISOString()).toBe('2015-07-01T03:00:00.000Z');
    expect(zonedInstant('2015-12-01', '06:00', IST).toISOString()).toBe('2015-12-01T04:00:00.000Z');
  });

  it('moves a time skipped by spring-forward past the gap, and takes the earlier of a repeated one', () => {
    // Berlin, 2021-03-28: 02:00 CET → 03:00 CEST; 02:30 does not exist, read as 03:30 CEST.
    expect(zonedInstant('2021-03-28', '02:30', 'Europe/Berlin').toISOString()).toBe(
      '2021-03-28T01:30:00.000Z',
    );
    // Berlin, 2021-10-31: 03:00 CEST → 02:00 CET; 02:30 happens twice, first at 00:30Z.
    expect(zonedInstant('2021-10-31', '02:30', 'Europe/Berlin').toISOString()).toBe(
      '2021-10-31T00:30:00.000Z',
    );
    expect(zonedInstant('2021-10-31', '06:00', 'Europe/Berlin').toISOString()).toBe(
      '2021-10-31T05:00:00.000Z',
    );
  });

  it('refuses a malformed time', () => {
    expect(() => zonedInstant('2020-11-21', '6:00', IST)).toThrow(RangeError);
    expect(() => zonedInstant('2020-11-21', '24:00', IST)).toThrow(RangeError);
  });
});

describe('isTimeZone', () => {
  it('accepts IANA names and refuses offsets and unknown zones', () => {
    expect(isTimeZone('Europe/Istanbul')).toBe(true);
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('America/Argentina/Buenos_Aires')).toBe(true);
    expect(isTimeZone('+03:00')).toBe(false);
    expect(isTimeZone('Europe/Izmir')).toBe(false);
    expect(isTimeZone('')).toBe(false);
  });
});
