import { createHesStandIn, StandInRefusedError } from './stand-in';

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
});
