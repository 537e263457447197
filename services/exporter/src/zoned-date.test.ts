import { addDays, calendarDateIn, isTimeZone, utcOffsetMs, zonedInstant } from './zoned-date';

const IST = 'Europe/Istanbul';

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
