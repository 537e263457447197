import { createJobCatalog, InvalidJobPayloadError, isJobName, jobOptions, parseJobPayload } from './catalog';

const catalog = createJobCatalog({ attempts: 4, backoffMs: 60000, exportTimeoutMs: 3600000 });
const valid = {
  day: '2020-11-20',
  trigger: 'nightly',
  waitForCompleteness: true,
  deadline: '2020-11-21T03:00:00.000Z',
};

describe('job catalog', () => {
  it('accepts a well-formed export-day payload and gives it its deterministic id', () => {
    const payload = parseJobPayload(catalog, 'export-day', valid);
    expect(payload).toEqual(valid);
    expect(jobOptions(catalog, 'export-day', payload)).toMatchObject({
      jobId: 'export-2020-11-20',
      attempts: 4,
      backoff: { type: 'exponential', delay: 60000 },
    });
    // BullMQ refuses custom ids with ':' (unless three parts): ours never have one.
    expect(jobOptions(catalog, 'export-day', payload).jobId).not.toContain(':');
  });

  it.each([
    ['a day that is not a calendar day', { ...valid, day: '2020-02-30' }, 'day'],
    ['a day not written YYYY-MM-DD', { ...valid, day: '20.11.2020' }, 'day'],
    ['an unknown trigger', { ...valid, trigger: 'cron' }, 'trigger'],
    ['waiting without a deadline', { ...valid, deadline: null }, 'deadline'],
    ['a deadline that is not an ISO instant', { ...valid, deadline: 'tomorrow 06:00' }, 'deadline'],
    ['an extra field', { ...valid, tc: '10000000146' }, '(payload)'],
    ['a missing field', { day: '2020-11-20', trigger: 'manual', deadline: null }, 'waitForCompleteness'],
  ])('refuses %s, naming the field but not its value', (_what, data, field) => {
    let error: unknown;
    try {
      parseJobPayload(catalog, 'export-day', data);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidJobPayloadError);
    expect((error as InvalidJobPayloadError).retryable).toBe(false);
    expect((error as Error).message).toContain(field);
    expect((error as Error).message).not.toContain('10000000146');
  });

  it('accepts a late-window payload without a deadline', () => {
    const late = { day: '2020-11-19', trigger: 'late-window', waitForCompleteness: false, deadline: null };
    expect(parseJobPayload(catalog, 'export-day', late)).toEqual(late);
  });

  it('gives the nightly job an empty payload, no fixed id (the scheduler names it) and a short timeout', () => {
    expect(parseJobPayload(catalog, 'nightly', {})).toEqual({});
    expect(() => parseJobPayload(catalog, 'nightly', { day: '2020-11-20' })).toThrow(InvalidJobPayloadError);
    expect(jobOptions(catalog, 'nightly', {}).jobId).toBeUndefined();
    expect(catalog.nightly.timeoutMs).toBeLessThan(catalog['export-day'].timeoutMs);
  });

  it('gives the retention job an empty payload, no fixed id (its scheduler names it), the longest timeout', () => {
    expect(parseJobPayload(catalog, 'retention', {})).toEqual({});
    expect(() => parseJobPayload(catalog, 'retention', { days: 1 })).toThrow(InvalidJobPayloadError);
    expect(jobOptions(catalog, 'retention', {})).toMatchObject({ attempts: 4 });
    expect(jobOptions(catalog, 'retention', {}).jobId).toBeUndefined();
    expect(catalog.retention.timeoutMs).toBeGreaterThan(catalog['export-day'].timeoutMs);
    expect(isJobName('retention')).toBe(true);
  });

  it('knows its job names', () => {
    expect(isJobName('export-day')).toBe(true);
    expect(isJobName('nightly')).toBe(true);
    expect(isJobName('export')).toBe(false);
  });
});
