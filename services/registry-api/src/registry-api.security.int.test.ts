import { revokeApiKey } from '@boarding/registry/verbs/revoke-api-key';
import { type ApiRig, bearer, createApiRig } from './registry-api.test-helpers';

describe('registry API: security', () => {
  let rig: ApiRig;

  beforeAll(async () => {
    rig = await createApiRig('regapi_security');
  });
  afterAll(() => rig.close());

  const UNAUTHENTICATED = { code: 'UNAUTHENTICATED', field: null };

  it('401 without a key, with a malformed header, or with a key that is not ours', async () => {
    for (const headers of [
      {},
      { authorization: 'Basic dXNlcjpwdw==' },
      { authorization: 'Bearer ' },
      bearer(`bk_000000000000_${'A'.repeat(43)}`),
      bearer("' or 1=1 --"),
    ]) {
      const res = await rig.app.inject({ url: '/v1/me', headers });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject(UNAUTHENTICATED);
    }
  });

  it('401 for a revoked key, from the moment it is revoked', async () => {
    const { id, key } = await rig.keyFor('WEB');
    expect((await rig.app.inject({ url: '/v1/me', headers: bearer(key) })).statusCode).toBe(200);
    await revokeApiKey({ ctx: { db: rig.database.db, actor: { id: 't', channel: 'ADMIN' } }, input: { id } });
    const res = await rig.app.inject({ url: '/v1/me', headers: bearer(key) });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject(UNAUTHENTICATED);
  });

  it('403 WRONG_CHANNEL for a citizen channel on a staff route, checked before the body', async () => {
    for (const [channel, location] of [
      ['WEB', undefined],
      ['KIOSK', 'pier-bostanli'],
      ['ACTIVATION_POINT', 'metro-ucyol'],
    ] as const) {
      const { key } = await rig.keyFor(channel, location);
      const res = await rig.app.inject({
        method: 'POST',
        url: '/v1/staff/card-lookup',
        headers: bearer(key),
        payload: { cardNo: 'not a card' },
      });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toEqual({
        code: 'WRONG_CHANNEL',
        field: null,
        message: `a ${channel} key may not call this operation`,
      });
    }
  });

  it('401 before 400: a request without a key learns nothing about the body rules', async () => {
    const res = await rig.app.inject({
      method: 'POST',
      url: '/v1/staff/card-lookup',
      payload: { cardNo: 1 },
    });
    expect(res.statusCode).toBe(401);
  });

  it('400 per field for injection-looking input, never echoed, nothing run', async () => {
    const { key } = await rig.keyFor('STAFF');
    for (const cardNo of [
      "0412'; drop table matches; --",
      '0412 OR 1=1',
      '<script>alert(1)</script>',
      '0412\u0000',
    ]) {
      const res = await rig.app.inject({
        method: 'POST',
        url: '/v1/staff/card-lookup',
        headers: bearer(key),
        payload: { cardNo },
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({
        code: 'INVALID_INPUT',
        field: 'cardNo',
        message: 'cardNo: must be 8-20 characters of 0-9 A-F',
      });
    }
    const still = await rig.database.pool.query('select count(*)::int as n from matches');
    expect(still.rows[0]).toEqual({ n: 0 });
  });

  it('writes neither a key nor a TC to its logs, and labels metrics by route pattern only', async () => {
    const { key } = await rig.keyFor('STAFF');
    await rig.app.inject({ url: '/v1/me', headers: bearer(key) });
    await rig.app.inject({ url: '/v1/me/17291716060' });
    expect(rig.logs.join('')).not.toContain(key);
    const metrics = (await rig.app.inject({ url: '/metrics' })).body;
    expect(metrics).not.toContain('17291716060');
    expect(metrics).toContain('route="unmatched"');
  });
});
