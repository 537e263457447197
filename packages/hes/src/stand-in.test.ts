import { createHesStandIn, StandInRefusedError } from './stand-in';
import { MAX_STATUS_BATCH } from './verifier';

const RECORD = { hesCode: 'ABCD1234X9', tcKimlikNo: '17291716060', status: 'RISKLESS' } as const;

describe('HES stand-in', () => {
  it('refuses to be created when NODE_ENV=production, and says why', () => {
    expect(() => createHesStandIn({ records: [RECORD], env: { NODE_ENV: 'production' } })).toThrow(
      StandInRefusedError,
    );
    expect(() => createHesStandIn({ records: [RECORD], env: { NODE_ENV: 'production' } })).toThrow(
      /never.*production/,
    );
  });

  it('answers 200 with the status, 409 for another person’s code, 404 for an unknown code', async () => {
    const standIn = createHesStandIn({ records: [RECORD] });
    const ask = (tc: string, hes: string) =>
      standIn.server.inject({ method: 'POST', url: '/v1/verify', payload: { tc, hes } });
    const ok = await ask('17291716060', 'ABCD1234X9');
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ status: 'RISKLESS' });
    const other = await ask('10000000146', 'ABCD1234X9');
    expect(other.statusCode).toBe(409);
    expect(other.json()).toEqual({ code: 'HES_CODE_MISMATCH' });
    const unknown = await ask('17291716060', 'ZZZZ9999ZZ');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toEqual({ code: 'HES_CODE_NOT_FOUND' });
    await standIn.close();
  });

  it('answers 400 to a request that is not {tc, hes}, never echoing the values', async () => {
    const standIn = createHesStandIn({ records: [RECORD] });
    const res = await standIn.server.inject({
      method: 'POST',
      url: '/v1/verify',
      payload: { tc: '17291716060' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.body).not.toContain('17291716060');
    await standIn.close();
  });

  it('answers 503 when down and a body that is no answer when wrong', async () => {
    const standIn = createHesStandIn({ records: [RECORD] });
    const ask = () =>
      standIn.server.inject({
        method: 'POST',
        url: '/v1/verify',
        payload: { tc: '17291716060', hes: 'ABCD1234X9' },
      });
    standIn.setMode('down');
    expect((await ask()).statusCode).toBe(503);
    standIn.setMode('wrong');
    const wrong = await ask();
    expect(wrong.statusCode).toBe(200);
    expect(() => JSON.parse(wrong.body)).toThrow();
    standIn.setMode('normal');
    expect((await ask()).statusCode).toBe(200);
    expect(standIn.requestCount()).toBe(3);
    await standIn.close();
  });

  it('listens on the address asked for and closes idempotently', async () => {
    const standIn = createHesStandIn({ records: [RECORD] });
    const url = await standIn.listen({ host: '127.0.0.1', port: 0 });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${url}/healthz`);
    expect(res.status).toBe(200);
    await standIn.close();
    await standIn.close();
  });

  describe('the batch endpoint', () => {
    const OTHER = { hesCode: 'EFGH5678Y1', tcKimlikNo: '10000000146', status: 'RISKY' } as const;
    const askBatch = (standIn: ReturnType<typeof createHesStandIn>, payload: unknown) =>
      standIn.server.inject({ method: 'POST', url: '/v1/statuses', payload: payload as object });

    it('answers every check in order: a status, or the code the single endpoint would answer', async () => {
      const standIn = createHesStandIn({ records: [RECORD, OTHER] });
      const res = await askBatch(standIn, {
        checks: [
          { tc: '10000000146', hes: 'EFGH-5678-Y1' },
          { tc: '10000000146', hes: 'ABCD1234X9' },
          { tc: '17291716060', hes: 'ABCD1234X9' },
          { tc: '17291716060', hes: 'ZZZZ9999ZZ' },
        ],
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({
        results: [
          { status: 'RISKY' },
          { code: 'HES_CODE_MISMATCH' },
          { status: 'RISKLESS' },
          { code: 'HES_CODE_NOT_FOUND' },
        ],
      });
      expect(standIn.requestCount()).toBe(1);
      await standIn.close();
    });

    it('takes up to MAX_STATUS_BATCH checks: 413 above, 400 for none or a malformed one, never echoing', async () => {
      const standIn = createHesStandIn({ records: [RECORD] });
      const check = { tc: '17291716060', hes: 'ABCD1234X9' };
      const full = await askBatch(standIn, { checks: Array.from({ length: MAX_STATUS_BATCH }, () => check) });
      expect(full.statusCode).toBe(200);
      expect((full.json() as { results: unknown[] }).results).toHaveLength(MAX_STATUS_BATCH);
      const over = await askBatch(standIn, {
        checks: Array.from({ length: MAX_STATUS_BATCH + 1 }, () => check),
      });
      expect(over.statusCode).toBe(413);
      expect(over.json()).toEqual({ code: 'BATCH_TOO_LARGE', max: MAX_STATUS_BATCH });
      for (const payload of [{ checks: [] }, { checks: [{ tc: '17291716060' }] }, [check]]) {
        const bad = await askBatch(standIn, payload);
        expect(bad.statusCode).toBe(400);
        expect(bad.body).not.toContain('17291716060');
      }
      await standIn.close();
    });

    it('is down, slow and wrong with the single endpoint', async () => {
      const standIn = createHesStandIn({ records: [RECORD] });
      const payload = { checks: [{ tc: '17291716060', hes: 'ABCD1234X9' }] };
      standIn.setMode('down');
      expect((await askBatch(standIn, payload)).statusCode).toBe(503);
      standIn.setMode('wrong');
      const wrong = await askBatch(standIn, payload);
      expect(wrong.statusCode).toBe(200);
      expect(() => JSON.parse(wrong.body)).toThrow();
      await standIn.close();
    });
  });

  it('changes a code’s status by setStatus or POST /admin/status (404 for an unknown code)', async () => {
    const standIn = createHesStandIn({ records: [RECORD] });
    const ask = async () =>
      (
        await standIn.server.inject({
          method: 'POST',
          url: '/v1/verify',
          payload: { tc: '17291716060', hes: 'ABCD1234X9' },
        })
      ).json();
    expect(standIn.setStatus('abcd-1234-x9', 'RISKY')).toBe(true);
    expect(await ask()).toEqual({ status: 'RISKY' });
    const admin = (payload: object) =>
      standIn.server.inject({ method: 'POST', url: '/admin/status', payload });
    expect((await admin({ hes: 'ABCD1234X9', status: 'RISKLESS' })).statusCode).toBe(204);
    expect(await ask()).toEqual({ status: 'RISKLESS' });
    expect((await admin({ hes: 'ZZZZ9999ZZ', status: 'RISKY' })).statusCode).toBe(404);
    expect((await admin({ hes: 'ABCD1234X9', status: 'MAYBE' })).statusCode).toBe(400);
    expect(standIn.setStatus('ZZZZ9999ZZ', 'RISKY')).toBe(false);
    await standIn.close();
  });
});
