import { MAX_RANGE_DAYS, parseCardNo, parseDays, parseInstant, UsageError, wholeNumber } from './arguments';

describe('whole-number arguments', () => {
  it('takes digits (with _ as a separator) in range and refuses anything else before any work', () => {
    const atLeastOne = wholeNumber(1);
    expect(atLeastOne('200_000')).toBe(200000);
    for (const bad of ['abc', '1.5', '-1', '1e3', '0', '', '99999999999999999'])
      expect(() => atLeastOne(bad)).toThrow(/whole number/);
    expect(() => wholeNumber(0, 65535)('70000')).toThrow('must be a whole number from 0 to 65535');
  });
});

describe('card and instant arguments', () => {
  it('normalises a card number as SPEC §2 does and refuses others without echoing them', () => {
    expect(parseCardNo(' 04a1b2c3 ')).toBe('04A1B2C3');
    for (const bad of ['04A1B2C', '04A1B2C3D4E5F6A7B8C9D', 'XYZ12345', '']) {
      expect(() => parseCardNo(bad)).toThrow(UsageError);
    }
    expect(() => parseCardNo('XYZ12345')).toThrow('--card must be 8-20 characters of 0-9 A-F');
  });

  it('takes an ISO 8601 instant with an offset only', () => {
    expect(parseInstant('2020-11-01T12:00:00+03:00', '--at').toISOString()).toBe('2020-11-01T09:00:00.000Z');
    expect(parseInstant('2020-11-01T09:00:00Z', '--at').toISOString()).toBe('2020-11-01T09:00:00.000Z');
    for (const bad of ['2020-11-01T12:00:00', '2020-11-01', 'yesterday', '2020-02-30T00:00:00Z']) {
      expect(() => parseInstant(bad, '--at')).toThrow('--at must be an ISO 8601 instant with an offset');
    }
  });
});

describe('day and day-range arguments', () => {
  it('takes --day alone, or --from/--to as every day between, oldest first', () => {
    expect(parseDays({ day: '2020-11-20' })).toEqual(['2020-11-20']);
    expect(parseDays({ from: '2020-10-30', to: '2020-11-02' })).toEqual([
      '2020-10-30',
      '2020-10-31',
      '2020-11-01',
      '2020-11-02',
    ]);
    expect(parseDays({ from: '2020-02-28', to: '2020-03-01' })).toHaveLength(3);
  });

  it('refuses a malformed or reversed range, one too long, and --day with a range, as usage errors', () => {
    expect(() => parseDays({ day: '2020-02-30' })).toThrow(UsageError);
    expect(() => parseDays({ from: '2020-11-20' })).toThrow('give --day D, or --from D1 --to D2');
    expect(() => parseDays({ day: '2020-11-20', from: '2020-11-20', to: '2020-11-21' })).toThrow('not both');
    expect(() => parseDays({ from: '2020-11-21', to: '2020-11-20' })).toThrow('--to 2020-11-20 is before');
    expect(parseDays({ from: '2020-01-01', to: '2020-03-02' })).toHaveLength(MAX_RANGE_DAYS);
    expect(() => parseDays({ from: '2020-01-01', to: '2020-03-03' })).toThrow('63 days; at most 62');
  });
});
