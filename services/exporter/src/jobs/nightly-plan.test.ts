import { planNight } from './nightly-plan';

const base = { timeZone: 'Europe/Istanbul', deadline: '06:00', lateWindowDays: 2 };

describe('planNight', () => {
  it('exports yesterday in Istanbul at 03:30 local (00:30Z), waiting until 06:00, then the late window', () => {
    expect(planNight({ ...base, firedAt: new Date('2020-11-21T00:30:00Z') })).toEqual([
      {
        day: '2020-11-20',
        trigger: 'nightly',
        waitForCompleteness: true,
        deadline: '2020-11-21T03:00:00.000Z',
      },
      { day: '2020-11-19', trigger: 'late-window', waitForCompleteness: false, deadline: null },
      { day: '2020-11-18', trigger: 'late-window', waitForCompleteness: false, deadline: null },
    ]);
  });

  it('takes the local date, not the UTC one, around midnight', () => {
    // 00:00 Istanbul on the 21st is still the 20th in UTC: D is the 20th.
    expect(planNight({ ...base, firedAt: new Date('2020-11-20T21:00:00Z') })[0]?.day).toBe('2020-11-20');
    // 23:59:59.999 Istanbul on the 20th: D is the 19th.
    expect(planNight({ ...base, firedAt: new Date('2020-11-20T20:59:59.999Z') })[0]?.day).toBe('2020-11-19');
  });

  it('crosses the new year and leap day', () => {
    const ny = planNight({ ...base, firedAt: new Date('2021-01-01T00:30:00Z') });
    expect(ny.map((p) => p.day)).toEqual(['2020-12-31', '2020-12-30', '2020-12-29']);
    expect(ny[0]?.deadline).toBe('2021-01-01T03:00:00.000Z');
    const leap = planNight({ ...base, lateWindowDays: 1, firedAt: new Date('2020-03-01T00:30:00Z') });
    expect(leap.map((p) => p.day)).toEqual(['2020-02-29', '2020-02-28']);
  });

  it('places the deadline by the zone rules of that morning', () => {
    // Istanbul on EET in winter 2015: 06:00 local was 04:00Z.
    const plan = planNight({ ...base, lateWindowDays: 0, firedAt: new Date('2015-12-02T01:30:00Z') });
    expect(plan).toEqual([
      {
        day: '2015-12-01',
        trigger: 'nightly',
        waitForCompleteness: true,
        deadline: '2015-12-02T04:00:00.000Z',
      },
    ]);
  });
});
