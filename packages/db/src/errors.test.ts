import { classifyDatabaseError } from './errors';

describe('classifyDatabaseError', () => {
  it("classifies a wrapper (drizzle's DrizzleQueryError) by the driver's error in its cause", () => {
    const wrapped = (cause: unknown) =>
      Object.assign(new Error('Failed query: select 1\nparams: '), { cause });
    expect(
      classifyDatabaseError(
        wrapped(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
      ),
    ).toBe('transient');
    expect(
      classifyDatabaseError(wrapped(Object.assign(new Error('value too long'), { code: '22001' }))),
    ).toBe('rejected');
    expect(classifyDatabaseError(wrapped(new Error('something else')))).toBe('unknown');
  });

  it('takes a session the server ended for idling in its transaction (25P03) as transient', () => {
    const ended = Object.assign(new Error('terminating connection due to idle-in-transaction timeout'), {
      code: '25P03',
    });
    expect(classifyDatabaseError(ended)).toBe('transient');
  });

  it("takes pg's client-side query_timeout (a server that stopped answering) as transient", () => {
    expect(classifyDatabaseError(new Error('Query read timeout'))).toBe('transient');
  });

  it('keeps an error that says something itself by its own class', () => {
    const own = Object.assign(new Error('relation "x" does not exist'), {
      code: '42P01',
      cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    });
    expect(classifyDatabaseError(own)).toBe('unknown');
  });
});
