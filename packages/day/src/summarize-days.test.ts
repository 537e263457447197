import { DayRangeError, daysOfRange, lastDays, MAX_SUMMARY_DAYS, rangeAsked } from './summarize-days';

describe('day ranges', () => {
  it('defaults to the 30 days before today, ending yesterday', () => {
    expect(lastDays('2021-03-01')).toEqual({ from: '2021-01-30', to: '2021-02-28' });
  });

  it('fills a range asked for the same way for /days and days list: 30 days, or to yesterday', () => {
    const today = '2021-03-01';
    expect(rangeAsked(today, {})).toEqual(lastDays(today));
    // `to` alone: the 30 days ending there; `from` alone: from there to yesterday.
    expect(rangeAsked(today, { to: '2020-12-31' })).toEqual({ from: '2020-12-02', to: '2020-12-31' });
    expect(rangeAsked(today, { from: '2021-02-20' })).toEqual({ from: '2021-02-20', to: '2021-02-28' });
    expect(daysOfRange(rangeAsked(today, { to: '2020-12-31' }))).toHaveLength(30);
  });

  it('lists the days of a range oldest first, across a month end', () => {
    expect(daysOfRange({ from: '2020-02-27', to: '2020-03-01' })).toEqual([
      '2020-02-27',
      '2020-02-28',
      '2020-02-29',
      '2020-03-01',
    ]);
    expect(daysOfRange({ from: '2020-11-20', to: '2020-11-20' })).toEqual(['2020-11-20']);
  });

  it.each([
    [{ from: '2020-02-30', to: '2020-03-01' }, 'from must be a date as YYYY-MM-DD, got "2020-02-30"'],
    [{ from: '2020-03-01', to: 'yesterday' }, 'to must be a date as YYYY-MM-DD, got "yesterday"'],
    [{ from: '2020-03-02', to: '2020-03-01' }, 'from (2020-03-02) is after to (2020-03-01)'],
    [{ from: '2019-01-01', to: '2020-03-01' }, `a range is at most ${MAX_SUMMARY_DAYS} days long`],
  ])('refuses %j', (range, message) => {
    expect(() => daysOfRange(range)).toThrow(new DayRangeError(message));
    expect(() => daysOfRange(range)).toThrow(DayRangeError);
  });
});
