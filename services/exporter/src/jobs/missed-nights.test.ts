import { missedNights } from './missed-nights';

const NIGHTLY = { cron: '30 3 * * *', timeZone: 'Europe/Istanbul' };

describe('missedNights (SPEC §5: missed firings run at once, oldest first, up to LATE_WINDOW_DAYS back)', () => {
  it('an exporter down at 03:30 and back at 09:00 runs that night', () => {
    const r = missedNights({
      ...NIGHTLY,
      lastRecorded: new Date('2020-11-20T00:30:00Z'), // 03:30 Istanbul, 20 Nov
      now: new Date('2020-11-21T06:00:00Z'), // 09:00 Istanbul, 21 Nov
      lateWindowDays: 7,
    });
    expect(r.run.map((d) => d.toISOString())).toEqual(['2020-11-21T00:30:00.000Z']);
    expect(r.tooOld).toEqual([]);
  });

  it('nothing is missed when the last recorded firing is the latest one', () => {
    const r = missedNights({
      ...NIGHTLY,
      lastRecorded: new Date('2020-11-21T00:30:00Z'),
      now: new Date('2020-11-21T23:59:00Z'),
      lateWindowDays: 7,
    });
    expect(r).toEqual({ run: [], tooOld: [] });
  });

  it('several missed nights run oldest first; those beyond the late window are named, not run', () => {
    const r = missedNights({
      ...NIGHTLY,
      lastRecorded: new Date('2020-11-10T00:30:00Z'),
      now: new Date('2020-11-21T06:00:00Z'),
      lateWindowDays: 2,
    });
    expect(r.run.map((d) => d.toISOString())).toEqual([
      '2020-11-19T00:30:00.000Z',
      '2020-11-20T00:30:00.000Z',
      '2020-11-21T00:30:00.000Z',
    ]);
    expect(r.tooOld.map((d) => d.toISOString().slice(0, 10))).toEqual([
      '2020-11-11',
      '2020-11-12',
      '2020-11-13',
      '2020-11-14',
      '2020-11-15',
      '2020-11-16',
      '2020-11-17',
      '2020-11-18',
    ]);
  });

  it('a fresh install (no firing recorded) has missed nothing', () => {
    expect(missedNights({ ...NIGHTLY, lastRecorded: null, now: new Date(), lateWindowDays: 7 })).toEqual({
      run: [],
      tooOld: [],
    });
  });

  it('reads the cron in its time zone', () => {
    const r = missedNights({
      cron: '0 2 * * *',
      timeZone: 'UTC',
      lastRecorded: new Date('2020-11-20T02:00:00Z'),
      now: new Date('2020-11-21T02:00:00Z'),
      lateWindowDays: 7,
    });
    expect(r.run.map((d) => d.toISOString())).toEqual(['2020-11-21T02:00:00.000Z']);
  });
});
