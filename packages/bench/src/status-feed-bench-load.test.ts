import { boundMessage, ChangeLedger, changeSchedule, chunk, dueCount } from './status-feed-bench-load';

describe('changeSchedule', () => {
  it('spaces the changes evenly at the rate, the first at once', () => {
    expect(changeSchedule(100, 0.05)).toEqual([0, 10, 20, 30, 40]);
    expect(changeSchedule(4, 1)).toEqual([0, 250, 500, 750]);
  });

  it('makes rate × seconds changes, the last one due before the end', () => {
    const schedule = changeSchedule(100, 25);
    expect(schedule).toHaveLength(2500);
    expect(schedule.at(-1)).toBe(24_990);
  });

  it('refuses a rate or duration that is not positive', () => {
    expect(() => changeSchedule(0, 10)).toThrow(RangeError);
    expect(() => changeSchedule(100, -1)).toThrow(RangeError);
  });
});

describe('dueCount', () => {
  const schedule = [0, 10, 20, 30];

  it('counts the changes due at or before the elapsed time', () => {
    expect(dueCount(schedule, 0)).toBe(1);
    expect(dueCount(schedule, 9.9)).toBe(1);
    expect(dueCount(schedule, 10)).toBe(2);
    expect(dueCount(schedule, 29)).toBe(3);
  });

  it('never counts past the end of the schedule', () => {
    expect(dueCount(schedule, 1e9)).toBe(4);
    expect(dueCount([], 50)).toBe(0);
  });
});

describe('ChangeLedger', () => {
  it('times each change from its commit to the first message of its new version', () => {
    const ledger = new ChangeLedger();
    ledger.expect('04A1B2C3D4E5F601', 2, 100);
    ledger.committed('04A1B2C3D4E5F601', 105);
    ledger.seen('04A1B2C3D4E5F601', 2, 130);
    ledger.seen('04A1B2C3D4E5F601', 2, 900);
    expect(ledger.latencies()).toEqual([25]);
    expect(ledger.latencies('call')).toEqual([30]);
  });

  it('ignores older versions and cards it was not told about', () => {
    const ledger = new ChangeLedger();
    ledger.expect('04A1B2C3D4E5F601', 3, 0);
    ledger.committed('04A1B2C3D4E5F601', 10);
    ledger.seen('04A1B2C3D4E5F601', 2, 20);
    ledger.seen('04FFFFFFFFFFFF01', 3, 20);
    expect(ledger.unseen()).toEqual(['04A1B2C3D4E5F601']);
    ledger.seen('04A1B2C3D4E5F601', 4, 40);
    expect(ledger.unseen()).toEqual([]);
    expect(ledger.latencies()).toEqual([30]);
  });

  it('keeps a message noted before the commit, as a negative latency', () => {
    const ledger = new ChangeLedger();
    ledger.expect('04A1B2C3D4E5F601', 2, 0);
    ledger.seen('04A1B2C3D4E5F601', 2, 8);
    ledger.committed('04A1B2C3D4E5F601', 10);
    expect(ledger.latencies()).toEqual([-2]);
    expect(ledger.latencies('call')).toEqual([8]);
  });

  it('counts made and unseen only over committed changes', () => {
    const ledger = new ChangeLedger();
    ledger.expect('04A1B2C3D4E5F601', 2, 0);
    ledger.expect('04A1B2C3D4E5F602', 2, 0);
    ledger.committed('04A1B2C3D4E5F601', 5);
    expect(ledger.expected).toBe(2);
    expect(ledger.made).toBe(1);
    expect(ledger.unseen()).toEqual(['04A1B2C3D4E5F601']);
  });

  it('refuses to change one card twice: its latency would be ambiguous', () => {
    const ledger = new ChangeLedger();
    ledger.expect('04A1B2C3D4E5F601', 2, 0);
    expect(() => ledger.expect('04A1B2C3D4E5F601', 3, 1)).toThrow('changed twice');
  });
});

describe('boundMessage', () => {
  it('has the card as key and a value of SPEC §10 with the same bytes as the feed sends', () => {
    const message = boundMessage({
      cardNo: '04A1B2C3D4E5F601',
      status: 'ALLOWED',
      since: new Date('2026-12-06T10:00:00.000Z'),
      version: 1,
    });
    expect(message).toEqual({
      key: '04A1B2C3D4E5F601',
      value:
        '{"schema":"card-status.v1","cardNo":"04A1B2C3D4E5F601","status":"ALLOWED","since":"2026-12-06T10:00:00.000Z","version":1}',
    });
  });
});

describe('chunk', () => {
  it('cuts into arrays of at most the size, the last one shorter', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunk([], 5000)).toEqual([]);
  });
});
