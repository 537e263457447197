// The real client against the stand-in, both in this process: the stand-in listens on
// 127.0.0.1 port 0, so these tests need no stack and run with the unit tests.
import { createServer } from 'node:net';
import { createHesClient, type HesClientOptions } from './http-client';
import type { HesRecord } from './records';
import { createHesStandIn, type HesStandIn } from './stand-in';
import { HesCodeMismatchError, HesServiceUnavailableError, MAX_STATUS_BATCH } from './verifier';

const RISKLESS: HesRecord = { hesCode: 'ABCD1234X9', tcKimlikNo: '17291716060', status: 'RISKLESS' };
const RISKY: HesRecord = { hesCode: 'RISK0000Z1', tcKimlikNo: '10000000146', status: 'RISKY' };
const CLEAR_VALUES = [RISKLESS.hesCode, 'ABCD-1234-X9', RISKLESS.tcKimlikNo, RISKY.hesCode, RISKY.tcKimlikNo];

let standIn: HesStandIn;
let baseUrl: string;

beforeEach(async () => {
  standIn = createHesStandIn({ records: [RISKLESS, RISKY], slowMs: 2_000 });
  baseUrl = await standIn.listen({ host: '127.0.0.1', port: 0 });
});
afterEach(async () => {
  await standIn.close();
});

function client(overrides: Partial<HesClientOptions> = {}) {
  return createHesClient({
    baseUrl,
    timeoutMs: 1_000,
    retries: 2,
    breaker: { failureThreshold: 50, resetAfterMs: 30_000 },
    backoff: { startingDelayMs: 1, maxDelayMs: 5 },
    ...overrides,
  });
}

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(Error);
    return err as Error;
  }
  throw new Error('expected a failure');
}

function expectNoClearValues(err: Error): void {
  const seen = [err.message, err.stack ?? '', JSON.stringify(err), String(err.cause ?? '')].join('\n');
  for (const value of CLEAR_VALUES) expect(seen).not.toContain(value);
}

describe('HES client against the stand-in', () => {
  it('answers RISKLESS and RISKY for a code that belongs to the TC, dashed input included', async () => {
    const hes = client();
    await expect(hes.verify({ tcKimlikNo: RISKLESS.tcKimlikNo, hesCode: 'abcd-1234-x9' })).resolves.toEqual({
      status: 'RISKLESS',
    });
    await expect(hes.verify({ tcKimlikNo: RISKY.tcKimlikNo, hesCode: RISKY.hesCode })).resolves.toEqual({
      status: 'RISKY',
    });
    expect(standIn.requestCount()).toBe(2);
  });

  it('reports HES_CODE_MISMATCH, not retried, for a code of another person or an unknown code', async () => {
    const hes = client();
    const other = await failure(hes.verify({ tcKimlikNo: RISKY.tcKimlikNo, hesCode: RISKLESS.hesCode }));
    const unknown = await failure(hes.verify({ tcKimlikNo: RISKY.tcKimlikNo, hesCode: 'ZZZZ9999ZZ' }));
    for (const err of [other, unknown]) {
      expect(err).toBeInstanceOf(HesCodeMismatchError);
      expect(err).toMatchObject({ code: 'HES_CODE_MISMATCH', retryable: false });
      expectNoClearValues(err);
    }
    expect(standIn.requestCount()).toBe(2);
  });

  it('reports HES_SERVICE_UNAVAILABLE after the retries when the service answers 503', async () => {
    standIn.setMode('down');
    const err = await failure(
      client({ retries: 2 }).verify({ tcKimlikNo: RISKY.tcKimlikNo, hesCode: RISKY.hesCode }),
    );
    expect(err).toBeInstanceOf(HesServiceUnavailableError);
    expect(err).toMatchObject({ code: 'HES_SERVICE_UNAVAILABLE', retryable: true, reason: 'HTTP_5XX' });
    expect(standIn.requestCount()).toBe(3);
    expectNoClearValues(err);
  });

  it('recovers within the retries when the service comes back', async () => {
    standIn.setMode('down');
    const hes = client({ retries: 3, backoff: { startingDelayMs: 50, maxDelayMs: 50 } });
    const answer = hes.verify({ tcKimlikNo: RISKY.tcKimlikNo, hesCode: RISKY.hesCode });
    await new Promise((r) => setTimeout(r, 10));
    standIn.setMode('normal');
    await expect(answer).resolves.toEqual({ status: 'RISKY' });
  });

  it('times out a slow service and reports it unavailable', async () => {
    standIn.setMode('slow');
    const started = Date.now();
    const err = await failure(
      client({ timeoutMs: 100, retries: 1 }).verify({ tcKimlikNo: RISKY.tcKimlikNo, hesCode: RISKY.hesCode }),
    );
    expect(err).toMatchObject({ code: 'HES_SERVICE_UNAVAILABLE', retryable: true, reason: 'TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(standIn.requestCount()).toBe(2);
    expectNoClearValues(err);
  });

  it('never accepts a malformed answer: it is reported unavailable', async () => {
    standIn.setMode('wrong');
    const err = await failure(
      client({ retries: 0 }).verify({ tcKimlikNo: RISKY.tcKimlikNo, hesCode: RISKY.hesCode }),
    );
    expect(err).toMatchObject({ code: 'HES_SERVICE_UNAVAILABLE', reason: 'MALFORMED_RESPONSE' });
    expectNoClearValues(err);
  });

  it('reports a refused connection as unavailable', async () => {
    const port = await closedPort();
    const err = await failure(
      client({ baseUrl: `http://127.0.0.1:${port}`, retries: 1 }).verify({
        tcKimlikNo: RISKY.tcKimlikNo,
        hesCode: RISKY.hesCode,
      }),
    );
    expect(err).toMatchObject({ code: 'HES_SERVICE_UNAVAILABLE', retryable: true, reason: 'CONNECTION' });
    expectNoClearValues(err);
  });

  it('rejects with the caller’s reason when the caller aborts, without retrying', async () => {
    standIn.setMode('slow');
    const controller = new AbortController();
    const answer = client({ timeoutMs: 5_000 }).verify(
      { tcKimlikNo: RISKY.tcKimlikNo, hesCode: RISKY.hesCode },
      { signal: controller.signal },
    );
    setTimeout(() => controller.abort(new Error('caller gave up')), 50);
    await expect(answer).rejects.toThrow('caller gave up');
    expect(standIn.requestCount()).toBe(1);
  });

  it('does not ask the service about a code that is not a HES code at all', async () => {
    const err = await failure(client().verify({ tcKimlikNo: RISKY.tcKimlikNo, hesCode: 'short' }));
    expect(err).toBeInstanceOf(HesCodeMismatchError);
    expect(standIn.requestCount()).toBe(0);
  });
});

describe('HES client circuit breaker', () => {
  it('opens after N failed requests and then fails fast without a request', async () => {
    standIn.setMode('down');
    const hes = client({ retries: 0, breaker: { failureThreshold: 3, resetAfterMs: 30_000 } });
    for (let i = 0; i < 3; i++) {
      await expect(
        hes.verify({ tcKimlikNo: RISKY.tcKimlikNo, hesCode: RISKY.hesCode }),
      ).rejects.toMatchObject({
        reason: 'HTTP_5XX',
      });
    }
    expect(hes.breakerState()).toBe('open');
    const err = await failure(hes.verify({ tcKimlikNo: RISKY.tcKimlikNo, hesCode: RISKY.hesCode }));
    expect(err).toMatchObject({ code: 'HES_SERVICE_UNAVAILABLE', retryable: true, reason: 'CIRCUIT_OPEN' });
    expect(standIn.requestCount()).toBe(3);
    expectNoClearValues(err);
  });

  it('stops retrying as soon as the breaker opens', async () => {
    standIn.setMode('down');
    const hes = client({ retries: 5, breaker: { failureThreshold: 2, resetAfterMs: 30_000 } });
    await expect(hes.verify({ tcKimlikNo: RISKY.tcKimlikNo, hesCode: RISKY.hesCode })).rejects.toMatchObject({
      code: 'HES_SERVICE_UNAVAILABLE',
    });
    expect(standIn.requestCount()).toBe(2);
  });

  it('does not count mismatches as failures of the service', async () => {
    const hes = client({ retries: 0, breaker: { failureThreshold: 1, resetAfterMs: 30_000 } });
    await expect(hes.verify({ tcKimlikNo: RISKY.tcKimlikNo, hesCode: 'ZZZZ9999ZZ' })).rejects.toBeInstanceOf(
      HesCodeMismatchError,
    );
    expect(hes.breakerState()).toBe('closed');
  });

  it('half-opens after the reset time, and one good answer closes it', async () => {
    standIn.setMode('down');
    const hes = client({ retries: 0, breaker: { failureThreshold: 2, resetAfterMs: 150 } });
    for (let i = 0; i < 2; i++) {
      await expect(hes.verify({ tcKimlikNo: RISKY.tcKimlikNo, hesCode: RISKY.hesCode })).rejects.toThrow();
    }
    expect(hes.breakerState()).toBe('open');
    standIn.setMode('normal');
    await new Promise((r) => setTimeout(r, 200));
    expect(hes.breakerState()).toBe('half-open');
    await expect(hes.verify({ tcKimlikNo: RISKY.tcKimlikNo, hesCode: RISKY.hesCode })).resolves.toEqual({
      status: 'RISKY',
    });
    expect(hes.breakerState()).toBe('closed');
    expect(standIn.requestCount()).toBe(3);
  });

  it('opens again when the half-open trial fails', async () => {
    standIn.setMode('down');
    const hes = client({ retries: 0, breaker: { failureThreshold: 1, resetAfterMs: 100 } });
    await expect(hes.verify({ tcKimlikNo: RISKY.tcKimlikNo, hesCode: RISKY.hesCode })).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 150));
    await expect(hes.verify({ tcKimlikNo: RISKY.tcKimlikNo, hesCode: RISKY.hesCode })).rejects.toMatchObject({
      reason: 'HTTP_5XX',
    });
    expect(hes.breakerState()).toBe('open');
    await expect(hes.verify({ tcKimlikNo: RISKY.tcKimlikNo, hesCode: RISKY.hesCode })).rejects.toMatchObject({
      reason: 'CIRCUIT_OPEN',
    });
    expect(standIn.requestCount()).toBe(2);
  });
});

describe('HES client: statuses in a batch', () => {
  const checks = [
    { tcKimlikNo: RISKY.tcKimlikNo, hesCode: RISKY.hesCode },
    { tcKimlikNo: RISKY.tcKimlikNo, hesCode: RISKLESS.hesCode },
    { tcKimlikNo: RISKLESS.tcKimlikNo, hesCode: 'abcd-1234-x9' },
    { tcKimlikNo: RISKLESS.tcKimlikNo, hesCode: 'ZZZZ9999ZZ' },
  ];

  it('answers every entry in order in one request, a mismatch as an answer', async () => {
    await expect(client().statuses(checks)).resolves.toEqual([
      { status: 'RISKY' },
      { mismatch: true },
      { status: 'RISKLESS' },
      { mismatch: true },
    ]);
    expect(standIn.requestCount()).toBe(1);
  });

  it('follows a status the service changed', async () => {
    const hes = client();
    expect(standIn.setStatus(RISKLESS.hesCode, 'RISKY')).toBe(true);
    await expect(hes.statuses([checks[2] ?? RISKLESS])).resolves.toEqual([{ status: 'RISKY' }]);
  });

  it('asks nothing about entries that are not a TC and a HES code, nor for an empty list', async () => {
    const hes = client();
    await expect(
      hes.statuses([
        { tcKimlikNo: RISKY.tcKimlikNo, hesCode: 'short' },
        { tcKimlikNo: '12345678901', hesCode: RISKY.hesCode },
      ]),
    ).resolves.toEqual([{ mismatch: true }, { mismatch: true }]);
    await expect(hes.statuses([])).resolves.toEqual([]);
    expect(standIn.requestCount()).toBe(0);
  });

  it('splits a list longer than MAX_STATUS_BATCH into requests the service accepts', async () => {
    const many = Array.from(
      { length: MAX_STATUS_BATCH + 5 },
      (_, i) => checks[i % checks.length] ?? checks[0],
    );
    const answers = await client().statuses(many as typeof checks);
    expect(answers).toHaveLength(MAX_STATUS_BATCH + 5);
    expect(answers[MAX_STATUS_BATCH + 2]).toEqual(answers[(MAX_STATUS_BATCH + 2) % checks.length]);
    expect(answers.slice(0, 4)).toEqual([
      { status: 'RISKY' },
      { mismatch: true },
      { status: 'RISKLESS' },
      { mismatch: true },
    ]);
    expect(standIn.requestCount()).toBe(2);
  });

  it('fails the whole batch HES_SERVICE_UNAVAILABLE after the retries when the service is down', async () => {
    standIn.setMode('down');
    const err = await failure(client({ retries: 2 }).statuses(checks));
    expect(err).toBeInstanceOf(HesServiceUnavailableError);
    expect(err).toMatchObject({ code: 'HES_SERVICE_UNAVAILABLE', retryable: true, reason: 'HTTP_5XX' });
    expect(standIn.requestCount()).toBe(3);
    expectNoClearValues(err);
  });

  it('times out a slow batch, and never accepts a malformed answer', async () => {
    standIn.setMode('slow');
    const slow = await failure(client({ timeoutMs: 100, retries: 0 }).statuses(checks));
    expect(slow).toMatchObject({ code: 'HES_SERVICE_UNAVAILABLE', reason: 'TIMEOUT' });
    standIn.setMode('wrong');
    const wrong = await failure(client({ retries: 0 }).statuses(checks));
    expect(wrong).toMatchObject({ code: 'HES_SERVICE_UNAVAILABLE', reason: 'MALFORMED_RESPONSE' });
    expectNoClearValues(slow);
    expectNoClearValues(wrong);
  });

  it('shares the breaker with verify: failed batches open it, and verify then fails fast', async () => {
    standIn.setMode('down');
    const hes = client({ retries: 0, breaker: { failureThreshold: 2, resetAfterMs: 30_000 } });
    await expect(hes.statuses(checks)).rejects.toMatchObject({ reason: 'HTTP_5XX' });
    await expect(hes.statuses(checks)).rejects.toMatchObject({ reason: 'HTTP_5XX' });
    expect(hes.breakerState()).toBe('open');
    await expect(hes.verify(checks[0] ?? RISKY)).rejects.toMatchObject({ reason: 'CIRCUIT_OPEN' });
    await expect(hes.statuses(checks)).rejects.toMatchObject({ reason: 'CIRCUIT_OPEN' });
    expect(standIn.requestCount()).toBe(2);
  });
});

/** A port nothing listens on: bound, then released. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
