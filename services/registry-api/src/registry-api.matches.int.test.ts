import { matches, registryAudit } from '@boarding/db/schema';
import { createHesClient } from '@boarding/hes/http-client';
import { InMemoryHesVerifier } from '@boarding/hes/in-memory-verifier';
import { createHesStandIn, type HesStandIn } from '@boarding/hes/stand-in';
import { desc, eq } from 'drizzle-orm';
import { type ApiRig, bearer, createApiRig } from './registry-api.test-helpers';

// Valid TC kimlik nos (SPEC §3) and HES codes, one per person.
const PEOPLE = [
  { tc: '17291716060', hes: 'AB12CD34E9' },
  { tc: '10000000146', hes: 'QW56ER78T1' },
  { tc: '10000000214', hes: 'ZX90CV12B3' },
  { tc: '10000000382', hes: 'RS45TU67V8' },
  { tc: '10000000450', hes: 'KL12MN34P5' },
  { tc: '10000000528', hes: 'GH67JK89L0' },
] as const;
const RISKY = { tc: '10000000696', hes: 'RR11RR22R3' };
const CLEAR_VALUES = [...PEOPLE.flatMap((p) => [p.tc, p.hes]), RISKY.tc, RISKY.hes];

const twin = () =>
  new InMemoryHesVerifier([
    ...PEOPLE.map((p) => ({ tcKimlikNo: p.tc, hesCode: p.hes, status: 'RISKLESS' as const })),
    { tcKimlikNo: RISKY.tc, hesCode: RISKY.hes, status: 'RISKY' },
  ]);

const match = (rig: ApiRig, key: string, body: Record<string, unknown>) =>
  rig.app.inject({ method: 'POST', url: '/v1/matches', headers: bearer(key), payload: body });

const expectNoClearValues = (text: string) => {
  for (const value of CLEAR_VALUES) expect(text).not.toContain(value);
};

describe('POST /v1/matches', () => {
  let rig: ApiRig;
  let hes: InMemoryHesVerifier;
  let clock = new Date('2026-12-01T10:00:00Z');
  const bodies: string[] = [];
  const tick = () => {
    clock = new Date(clock.getTime() + 60_000);
  };

  beforeAll(async () => {
    hes = twin();
    rig = await createApiRig('regapi_matches', { hes, now: () => clock });
  });
  afterAll(async () => {
    // Security: no clear TC or HES in any response body or log line of the whole file.
    expectNoClearValues(bodies.join('\n'));
    expectNoClearValues(rig.logs.join(''));
    await rig.close();
  });
  beforeEach(tick);

  const call = async (key: string, body: Record<string, unknown>) => {
    const res = await match(rig, key, body);
    bodies.push(res.body);
    return res;
  };

  it('matches a card for a WEB key: 201 masked, a row in matches, an audit row with channel and key', async () => {
    const { id, key } = await rig.keyFor('WEB');
    const [p] = PEOPLE;
    const res = await call(key, {
      cardNo: '04a1b2c3d4e5f601',
      tcKimlikNo: p.tc,
      hesCode: 'ab12-cd34-e9',
      cardKind: 'PERSONAL',
    });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toEqual({
      matchId: expect.any(Number),
      outcome: 'MATCHED',
      cardNo: '04A1B2C3D4E5F601',
      cardKind: 'PERSONAL',
      tcKimlikNo: '*******6060',
      hesCode: '****-****-E9',
      hesStatus: 'RISKLESS',
      channel: 'WEB',
      endedMatchIds: [],
    });
    const [row] = await rig.database.db.select().from(matches).where(eq(matches.id, body.matchId));
    expect(row).toMatchObject({ channel: 'WEB', actor: `apikey:${id}`, validTo: null });
    expect(row?.validFrom.toISOString()).toBe(clock.toISOString());
    const [audit] = await rig.database.db
      .select()
      .from(registryAudit)
      .where(eq(registryAudit.matchId, body.matchId))
      .orderBy(desc(registryAudit.id));
    expect(audit).toMatchObject({ action: 'MATCH_CARD', channel: 'WEB', actor: `apikey:${id}` });
    expectNoClearValues(JSON.stringify(audit));
  });

  it('records the location of a kiosk key in the audit, and matches a RISKY code returning its status', async () => {
    const { id, key } = await rig.keyFor('KIOSK', 'metro-bornova');
    const res = await call(key, {
      cardNo: '0BADC0DE0001',
      tcKimlikNo: RISKY.tc,
      hesCode: RISKY.hes,
      cardKind: 'ANONYMOUS',
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ hesStatus: 'RISKY', channel: 'KIOSK', outcome: 'MATCHED' });
    const [audit] = await rig.database.db
      .select()
      .from(registryAudit)
      .where(eq(registryAudit.matchId, res.json().matchId));
    expect(audit).toMatchObject({ channel: 'KIOSK', actor: `apikey:${id}@metro-bornova` });
  });

  it.each([
    ['tcKimlikNo', { tcKimlikNo: '17291716050' }],
    ['hesCode', { hesCode: 'AB12-CD34' }],
    ['cardNo', { cardNo: "1' OR '1'='1" }],
    ['cardKind', { cardKind: 'GOLD' }],
  ])('400 INVALID_INPUT naming %s', async (field, change) => {
    const { key } = await rig.keyFor('ACTIVATION_POINT', 'metro-konak');
    const before = hes.calls;
    const res = await call(key, {
      cardNo: '0BADC0DE0002',
      tcKimlikNo: PEOPLE[1].tc,
      hesCode: PEOPLE[1].hes,
      cardKind: 'PERSONAL',
      ...change,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'INVALID_INPUT', field });
    expect(hes.calls).toBe(before); // refused before the HES service is asked
  });

  it("400 HES_CODE_MISMATCH on hesCode for another person's code, and no match", async () => {
    const { key } = await rig.keyFor('WEB');
    const count = (await rig.database.db.select().from(matches)).length;
    const res = await call(key, {
      cardNo: '0BADC0DE0003',
      tcKimlikNo: PEOPLE[1].tc,
      hesCode: PEOPLE[2].hes,
      cardKind: 'PERSONAL',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'HES_CODE_MISMATCH', field: 'hesCode' });
    expect((await rig.database.db.select().from(matches)).length).toBe(count);
  });

  it('409 CARD_TAKEN when the card is matched to another person', async () => {
    const { key } = await rig.keyFor('WEB');
    const first = await call(key, {
      cardNo: '0BADC0DE0004',
      tcKimlikNo: PEOPLE[1].tc,
      hesCode: PEOPLE[1].hes,
      cardKind: 'PERSONAL',
    });
    expect(first.statusCode).toBe(201);
    tick();
    const res = await call(key, {
      cardNo: '0BADC0DE0004',
      tcKimlikNo: PEOPLE[2].tc,
      hesCode: PEOPLE[2].hes,
      cardKind: 'PERSONAL',
    });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'CARD_TAKEN', field: 'cardNo' });
  });

  it('concurrent matches of one person through two channels: one wins, the other 409', async () => {
    const web = await rig.keyFor('WEB');
    const kiosk = await rig.keyFor('KIOSK', 'metro-halkapinar');
    const [p] = [PEOPLE[3]];
    const results = await Promise.all([
      call(web.key, { cardNo: '0BADC0DE0005', tcKimlikNo: p.tc, hesCode: p.hes, cardKind: 'PERSONAL' }),
      call(kiosk.key, { cardNo: '0BADC0DE0006', tcKimlikNo: p.tc, hesCode: p.hes, cardKind: 'PERSONAL' }),
    ]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([201, 409]);
    const loser = results.find((r) => r.statusCode === 409);
    expect(loser?.json()).toMatchObject({ code: 'MATCH_OVERLAP' });
  });

  it('503 HES_SERVICE_UNAVAILABLE when the twin is away, and no row', async () => {
    const { key } = await rig.keyFor('WEB');
    const count = (await rig.database.db.select().from(matches)).length;
    hes.setAvailable(false);
    try {
      const res = await call(key, {
        cardNo: '0BADC0DE0007',
        tcKimlikNo: PEOPLE[4].tc,
        hesCode: PEOPLE[4].hes,
        cardKind: 'PERSONAL',
      });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ code: 'HES_SERVICE_UNAVAILABLE', field: null });
    } finally {
      hes.setAvailable(true);
    }
    expect((await rig.database.db.select().from(matches)).length).toBe(count);
  });

  it('403 WRONG_CHANNEL for a STAFF key, 401 without a key', async () => {
    const { key } = await rig.keyFor('STAFF');
    const body = {
      cardNo: '0BADC0DE0008',
      tcKimlikNo: PEOPLE[4].tc,
      hesCode: PEOPLE[4].hes,
      cardKind: 'PERSONAL',
    };
    const staff = await call(key, body);
    expect(staff.statusCode).toBe(403);
    expect(staff.json()).toMatchObject({ code: 'WRONG_CHANNEL' });
    const none = await rig.app.inject({ method: 'POST', url: '/v1/matches', payload: body });
    bodies.push(none.body);
    expect(none.statusCode).toBe(401);
  });

  it('lists the route in /openapi.json', async () => {
    const doc = (await rig.app.inject({ url: '/openapi.json' })).json();
    expect(doc.paths['/v1/matches'].post['x-channels']).toEqual(['WEB', 'KIOSK', 'ACTIVATION_POINT']);
  });
});

describe('POST /v1/matches: rate limits', () => {
  let rig: ApiRig;
  const clock = new Date('2026-12-01T10:00:00Z');

  beforeAll(async () => {
    rig = await createApiRig('regapi_matches_rate', {
      hes: twin(),
      now: () => clock,
      rateLimits: { perKeyPerMinute: 4, perTcPerHour: 3 },
    });
  });
  afterAll(async () => {
    expectNoClearValues(rig.logs.join(''));
    await rig.close();
  });

  it('429 for one TC across different cards beyond the per-TC limit, even with different keys', async () => {
    const p = PEOPLE[5];
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const { key } = i % 2 === 0 ? await rig.keyFor('WEB') : await rig.keyFor('KIOSK', 'metro-goztepe');
      const res = await match(rig, key, {
        cardNo: `0CAFE0000${i}`,
        tcKimlikNo: p.tc,
        hesCode: PEOPLE[0].hes, // wrong code: a brute-force attempt still counts
        cardKind: 'PERSONAL',
      });
      statuses.push(res.statusCode);
      if (res.statusCode === 429) {
        expect(res.json()).toMatchObject({ code: 'RATE_LIMITED', field: 'tcKimlikNo' });
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
        expectNoClearValues(res.body);
      }
    }
    expect(statuses).toEqual([400, 400, 400, 429]);
  });

  it('429 for a key beyond its per-key limit, with Retry-After', async () => {
    const { key } = await rig.keyFor('WEB');
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      statuses.push((await rig.app.inject({ url: '/v1/me', headers: bearer(key) })).statusCode);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
    const res = await rig.app.inject({ url: '/v1/me', headers: bearer(key) });
    expect(res.json()).toMatchObject({ code: 'RATE_LIMITED', field: null });
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  });
});

describe('POST /v1/matches against the real HES client and the stand-in on loopback', () => {
  let rig: ApiRig;
  let standIn: HesStandIn;

  beforeAll(async () => {
    standIn = createHesStandIn({
      records: PEOPLE.map((p) => ({ tcKimlikNo: p.tc, hesCode: p.hes, status: 'RISKLESS' as const })),
    });
    const url = await standIn.listen({ host: '127.0.0.1', port: 0 });
    const hes = createHesClient({
      baseUrl: url,
      timeoutMs: 1000,
      retries: 1,
      breaker: { failureThreshold: 10, resetAfterMs: 1000 },
      backoff: { startingDelayMs: 1, maxDelayMs: 5 },
    });
    rig = await createApiRig('regapi_matches_hes', { hes });
  });
  afterAll(async () => {
    await rig.close();
    await standIn.close();
  });

  it('matches when the stand-in answers, 503 HES_SERVICE_UNAVAILABLE and no row when it is down', async () => {
    const { key } = await rig.keyFor('WEB');
    const [p, q] = PEOPLE;
    const ok = await match(rig, key, {
      cardNo: '0DEAD0001',
      tcKimlikNo: p.tc,
      hesCode: p.hes,
      cardKind: 'PERSONAL',
    });
    expect(ok.statusCode).toBe(201);
    standIn.setMode('down');
    const res = await match(rig, key, {
      cardNo: '0DEAD0002',
      tcKimlikNo: q.tc,
      hesCode: q.hes,
      cardKind: 'PERSONAL',
    });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ code: 'HES_SERVICE_UNAVAILABLE', field: null });
    expect(await rig.database.db.select().from(matches)).toHaveLength(1);
    expectNoClearValues(res.body + rig.logs.join(''));
  });
});
