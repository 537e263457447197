import { matchCard } from '@boarding/registry/verbs/match-card';
import { type ApiRig, bearer, createApiRig } from './registry-api.test-helpers';

const TC = '17291716060';
const HES = 'AB12CD34E9';
const CARD = '04A1B2C3D4E5F601';

describe('registry API: happy paths', () => {
  let rig: ApiRig;

  beforeAll(async () => {
    rig = await createApiRig('regapi_happy');
    await matchCard({
      ctx: { db: rig.database.db, keyring: rig.keyring, actor: { id: 'seed', channel: 'WEB' } },
      input: {
        cardNo: CARD,
        cardKind: 'PERSONAL',
        tcKimlikNo: TC,
        hesCode: HES,
        at: new Date('2020-11-01T00:00:00Z'),
      },
    });
  });
  afterAll(() => rig.close());

  it('tells a kiosk key its channel and location', async () => {
    const { id, key } = await rig.keyFor('KIOSK', 'metro-bornova');
    const res = await rig.app.inject({ url: '/v1/me', headers: bearer(key) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ keyId: id, channel: 'KIOSK', locationId: 'metro-bornova' });
  });

  it("shows staff a card's current match, masked (card number accepted in lower case)", async () => {
    const { key } = await rig.keyFor('STAFF');
    const res = await rig.app.inject({
      method: 'POST',
      url: '/v1/staff/card-lookup',
      headers: bearer(key),
      payload: { cardNo: CARD.toLowerCase() },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      matchId: expect.any(Number),
      cardNo: CARD,
      cardKind: 'PERSONAL',
      tcKimlikNo: '*******6060',
      hesCode: '****-****-E9',
      validFrom: '2020-11-01T00:00:00.000Z',
      validTo: null,
      channel: 'WEB',
      hesStatus: null,
    });
    expect(res.body).not.toContain(TC);
    expect(res.body).not.toContain(HES);
    expect(rig.logs.join('')).not.toContain(TC);
  });

  it('serves /openapi.json with the routes and the schemas their requests are checked with', async () => {
    const res = await rig.app.inject({ url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json() as { paths: Record<string, Record<string, { requestBody?: unknown }>> };
    expect(Object.keys(doc.paths)).toEqual([
      '/v1/me',
      '/v1/matches',
      '/v1/matches/current',
      '/v1/matches/hes-code',
      '/v1/matches/card-replacement',
      '/v1/staff/card-lookup',
      '/v1/staff/card-history',
      '/v1/staff/corrections',
      '/v1/staff/unmatch',
    ]);
    expect(JSON.stringify(doc.paths['/v1/staff/card-lookup']?.post?.requestBody)).toContain('"cardNo"');
  });

  it('answers /healthz and /readyz, and counts requests by route pattern in /metrics', async () => {
    expect((await rig.app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = await rig.app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    const metrics = (await rig.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(
      /registry_api_requests_total\{route="\/v1\/staff\/card-lookup",method="POST",status="200"\} 1/,
    );
    expect(metrics).not.toContain(CARD);
  });
});
