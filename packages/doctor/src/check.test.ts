import { codeOf, messageOf, notChecked, timedCheck } from './check';

describe('timedCheck', () => {
  it('fails a check whose dependency never answers, within its limit', async () => {
    const started = Date.now();
    const check = await timedCheck(
      'hung',
      50,
      () => new Promise(() => undefined),
      () => ({
        ok: false,
        detail: 'unused',
        fix: 'restart it',
      }),
    );
    expect(check).toEqual({ name: 'hung', ok: false, detail: 'no answer within 50 ms', fix: 'restart it' });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('fails a check that throws, with the explanation of its error', async () => {
    const err = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const check = await timedCheck(
      'postgres',
      1000,
      () => Promise.reject(err),
      (e) => ({ ok: true, detail: messageOf(e), fix: `code ${codeOf(e)}` }),
    );
    // A thrown check is never a passed one, whatever the explanation says.
    expect(check).toEqual({
      name: 'postgres',
      ok: false,
      detail: 'connect ECONNREFUSED 127.0.0.1:1',
      fix: 'code ECONNREFUSED',
    });
  });

  it('passes on what the check decided', async () => {
    expect(await timedCheck('redis', 1000, async () => ({ ok: true, detail: 'PONG' }))).toEqual({
      name: 'redis',
      ok: true,
      detail: 'PONG',
    });
  });
});

describe('error text', () => {
  it('reads the first error of an AggregateError (a name with several addresses)', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED ::1:1'), { code: 'ECONNREFUSED' });
    const both = new AggregateError([refused], '');
    expect(messageOf(both)).toBe('connect ECONNREFUSED ::1:1');
    expect(codeOf(both)).toBe('ECONNREFUSED');
    expect(codeOf({ originalError: { code: 'ENOTFOUND' } })).toBe('ENOTFOUND');
  });

  it('says a check was not run and why', () => {
    expect(notChecked('migrations', 'PostgreSQL not reached')).toEqual({
      name: 'migrations',
      ok: false,
      detail: 'not checked: PostgreSQL not reached',
    });
  });
});
