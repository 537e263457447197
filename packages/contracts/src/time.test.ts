import fc from 'fast-check';
import { OffsetDateTime, parseOffsetDateTime, serviceDayOf, serviceDayStartMs } from './time';

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
});

describe('serviceDayStartMs', () => {
  it('is midnight in Istanbul, 21:00 UTC the day before', () => {
    expect(serviceDayStartMs('2020-11-20')).toBe(Date.parse('2020-11-19T21:00:00Z'));
  });

  it.each(['2020-02-30', '2020-13-01', '20-11-20', '2020-11-20T00:00'])('refuses %s', (day) => {
    expect(() => serviceDayStartMs(day)).toThrow(RangeError);
  });
});
