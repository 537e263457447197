import { matches, registryAudit } from '@boarding/db/schema';
import { createHesClient } from '@boarding/hes/http-client';
import { InMemoryHesVerifier } from '@boarding/hes/in-memory-verifier';
import { createHesStandIn, type HesStandIn } from '@boarding/hes/stand-in';
import { asc, eq } from 'drizzle-orm';
import { type ApiRig, bearer, createApiRig } from './registry-api.test-helpers';

// The citizens' operations after the first match (SPEC §9): "my match", a new HES code, a lost
// card. Each needs the TC kimlik no and the card together; a card that is somebody else's
// answers exactly as an unmatched one.
const ANNE = { tc: '17291716060', hes: 'AB12CD34E9', hes2: 'AB12CD34F7', card: '0A0000000001' };
const BORA = { tc: '10000000146', hes: 'QW56ER78T1', card: '0A0000000002' };
const CEM = { tc: '10000000214', hes: 'ZX90CV12B3', hes2: 'RR11RR22R3', card: '0A0000000003' };
const CLEAR = [ANNE.tc, ANNE.hes, ANNE.hes2, BORA.tc, BORA.hes, CEM.tc, CEM.hes, CEM.hes2];

const twin = () =>
  new InMemoryHesVerifier([
    { tcKimlikNo: ANNE.tc, hesCode: ANNE.hes, status: 'RISKLESS' },
    { tcKimlikNo: ANNE.tc, hesCode: ANNE.hes2, status: 'RISKLESS' },
    { tcKimlikNo: BORA.tc, hesCode: BORA.hes, status: 'RISKLESS' },
    { tcKimlikNo: CEM.tc, hesCode: CEM.hes, status: 'RISKLESS' },
    { tcKimlikNo: CEM.tc, hesCode: CEM.hes2, status: 'RISKY' },
  ]);

const expectNoClearValues = (text: string) => {
  for (const value of CLEAR) expect(text).not.toContain(value);
};

describe('citizen routes after the match: my match, HES change, lost card', () => {
  let rig: ApiRig;
  let hes: InMemoryHesVerifier;
  let clock = new Date('2026-12-01T10:00:00Z');
  const bodies: string[] = [];
  const tick = () => {
    clock = new Date(clock.getTime() + 60_000);
  };
  const post = async (url: string, key: string | null, payload: unknown) => {
    const res = await rig.app.inject({
      method: 'POST',
      url,
      headers: key === null ? {} : bearer(key),
      payload: payload as Record<string, unknown>,
    });
    bodies.push(res.body);
    return res;
  };
  let web: string;
  let kiosk: { id: string; key: string };

  beforeAll(async () => {
    hes = twin();
    rig = await createApiRig('regapi_changes', { hes, now: () => clock });
    web = (await rig.keyFor('WEB')).key;
    kiosk = await rig.keyFor('KIOSK', 'pier-konak');
    for (const p of [ANNE, BORA, CEM]) {
      const res = await post('/v1/matches', web, {
        cardNo: p.card,
        tcKimlikNo: p.tc,
        hesCode: p.hes,
        cardKind: 'PERSONAL',
      });
      expect(res.statusCode).toBe(201);
    }
  });
  afterAll(async () => {
    expectNoClearValues(bodies.join('\n'));
    expectNoClearValues(rig.logs.join(''));
    await rig.close();
  });
  beforeEach(tick);

  describe('POST /v1/matches/current', () => {
    it("shows the person's own match, masked, with its HES status", async () => {
      const res = await post('/v1/matches/current', kiosk.key, { cardNo: ANNE.card, tcKimlikNo: ANNE.tc });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({
        matchId: expect.any(Number),
        cardNo: ANNE.card,
        cardKind: 'PERSONAL',
        tcKimlikNo: '*******6060',
        hesCode: '****-****-E9',
        hesStatus: 'RISKLESS',
        validFrom: expect.any(String),
        validTo: null,
        channel: 'WEB',
      });
    });

    it("answers another person's card exactly as an unknown card: 404 NO_CURRENT_MATCH", async () => {
      const theirs = await post('/v1/matches/current', web, { cardNo: BORA.card, tcKimlikNo: ANNE.tc });
      const unknown = await post('/v1/matches/current', web, { cardNo: '0FFFFFFFFFFF', tcKimlikNo: ANNE.tc });
      expect(theirs.statusCode).toBe(404);
      expect(theirs.json()).toEqual(unknown.json());
      expect(theirs.json()).toMatchObject({ code: 'NO_CURRENT_MATCH', field: 'cardNo' });
    });

    it('400 without the TC kimlik no, 403 for a STAFF key, 401 without a key', async () => {
      const missing = await post('/v1/matches/current', web, { cardNo: ANNE.card });
      expect(missing.statusCode).toBe(400);
      expect(missing.json()).toMatchObject({ code: 'INVALID_INPUT', field: 'tcKimlikNo' });
      const staff = await rig.keyFor('STAFF');
      const wrong = await post('/v1/matches/current', staff.key, { cardNo: ANNE.card, tcKimlikNo: ANNE.tc });
      expect(wrong.statusCode).toBe(403);
      const none = await post('/v1/matches/current', null, { cardNo: ANNE.card, tcKimlikNo: ANNE.tc });
      expect(none.statusCode).toBe(401);
    });
  });

  describe('POST /v1/matches/hes-code', () => {
    it('changes the HES code from now: the old match ends, the new one carries the status; audited with key and location', async () => {
      const res = await post('/v1/matches/hes-code', kiosk.key, {
        cardNo: CEM.card,
        tcKimlikNo: CEM.tc,
        hesCode: CEM.hes2,
      });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body).toEqual({
        matchId: expect.any(Number),
        outcome: 'CHANGED',
        cardNo: CEM.card,
        tcKimlikNo: '*******0214',
        hesCode: '****-****-R3',
        hesStatus: 'RISKY',
        channel: 'KIOSK',
        endedMatchId: expect.any(Number),
      });
      const [created] = await rig.database.db.select().from(matches).where(eq(matches.id, body.matchId));
      expect(created).toMatchObject({ hesStatus: 'RISKY', channel: 'KIOSK', validTo: null });
      expect(created?.validFrom.toISOString()).toBe(clock.toISOString());
      const [ended] = await rig.database.db.select().from(matches).where(eq(matches.id, body.endedMatchId));
      expect(ended?.validTo?.toISOString()).toBe(clock.toISOString());
      const [audit] = await rig.database.db
        .select()
        .from(registryAudit)
        .where(eq(registryAudit.matchId, body.matchId));
      expect(audit).toMatchObject({
        action: 'CHANGE_HES_CODE',
        channel: 'KIOSK',
        keyId: kiosk.id,
        locationId: 'pier-konak',
      });
      expectNoClearValues(JSON.stringify(audit));
    });

    it('the same code again is UNCHANGED and writes nothing', async () => {
      const before = await rig.database.db.select().from(matches);
      const res = await post('/v1/matches/hes-code', web, {
        cardNo: ANNE.card,
        tcKimlikNo: ANNE.tc,
        hesCode: ANNE.hes,
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ outcome: 'UNCHANGED', endedMatchId: null });
      expect(await rig.database.db.select().from(matches)).toHaveLength(before.length);
    });

    it("refuses to change another person's card (404, nothing written) even with a code that is the caller's", async () => {
      const before = await rig.database.db.select().from(matches);
      const calls = hes.calls;
      const res = await post('/v1/matches/hes-code', web, {
        cardNo: BORA.card,
        tcKimlikNo: ANNE.tc,
        hesCode: ANNE.hes2,
      });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ code: 'NO_CURRENT_MATCH' });
      expect(await rig.database.db.select().from(matches)).toEqual(before);
      // Not the caller's card: the HES service is not asked (a stranger cannot use the API to
      // test TC–HES pairs against it, nor load it).
      expect(hes.calls).toBe(calls);
    });

    it("400 HES_CODE_MISMATCH for a code that is not the person's; 503 and nothing written when the HES service is away", async () => {
      const mismatch = await post('/v1/matches/hes-code', web, {
        cardNo: ANNE.card,
        tcKimlikNo: ANNE.tc,
        hesCode: BORA.hes,
      });
      expect(mismatch.statusCode).toBe(400);
      expect(mismatch.json()).toMatchObject({ code: 'HES_CODE_MISMATCH', field: 'hesCode' });
      const before = await rig.database.db.select().from(matches);
      hes.setAvailable(false);
      try {
        const away = await post('/v1/matches/hes-code', web, {
          cardNo: ANNE.card,
          tcKimlikNo: ANNE.tc,
          hesCode: ANNE.hes2,
        });
        expect(away.statusCode).toBe(503);
        expect(away.json()).toMatchObject({ code: 'HES_SERVICE_UNAVAILABLE' });
      } finally {
        hes.setAvailable(true);
      }
      expect(await rig.database.db.select().from(matches)).toEqual(before);
    });

    it('400 INVALID_INPUT for a malformed HES code, before the HES service is asked', async () => {
      const calls = hes.calls;
      const res = await post('/v1/matches/hes-code', web, {
        cardNo: ANNE.card,
        tcKimlikNo: ANNE.tc,
        hesCode: "AB12'; DROP TABLE matches; --",
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'INVALID_INPUT', field: 'hesCode' });
      expect(hes.calls).toBe(calls);
    });
  });

  describe('POST /v1/matches/card-replacement', () => {
    it('moves the person to the new card from now with the same HES code and status', async () => {
      const ap = await rig.keyFor('ACTIVATION_POINT', 'metro-ucyol');
      const res = await post('/v1/matches/card-replacement', ap.key, {
        cardNo: BORA.card,
        tcKimlikNo: BORA.tc,
        newCardNo: '0A00000000B2',
        newCardKind: 'PERSONAL',
      });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body).toEqual({
        matchId: expect.any(Number),
        endedMatchId: expect.any(Number),
        cardNo: '0A00000000B2',
        cardKind: 'PERSONAL',
        tcKimlikNo: '*******0146',
        channel: 'ACTIVATION_POINT',
      });
      const mine = await post('/v1/matches/current', web, { cardNo: '0A00000000B2', tcKimlikNo: BORA.tc });
      expect(mine.json()).toMatchObject({
        hesCode: '****-****-T1',
        hesStatus: 'RISKLESS',
        channel: 'ACTIVATION_POINT',
      });
      const old = await post('/v1/matches/current', web, { cardNo: BORA.card, tcKimlikNo: BORA.tc });
      expect(old.statusCode).toBe(404);
      const audit = await rig.database.db
        .select()
        .from(registryAudit)
        .where(eq(registryAudit.matchId, body.matchId))
        .orderBy(asc(registryAudit.id));
      expect(audit).toEqual([
        expect.objectContaining({ action: 'REPLACE_CARD', keyId: ap.id, locationId: 'metro-ucyol' }),
      ]);
    });

    it("refuses a card that is not the caller's current one (404) and a new card that is somebody's (409 CARD_TAKEN)", async () => {
      const notMine = await post('/v1/matches/card-replacement', web, {
        cardNo: CEM.card,
        tcKimlikNo: ANNE.tc,
        newCardNo: '0A00000000C9',
        newCardKind: 'PERSONAL',
      });
      expect(notMine.statusCode).toBe(404);
      expect(notMine.json()).toMatchObject({ code: 'NO_CURRENT_MATCH' });
      const taken = await post('/v1/matches/card-replacement', web, {
        cardNo: ANNE.card,
        tcKimlikNo: ANNE.tc,
        newCardNo: CEM.card,
        newCardKind: 'PERSONAL',
      });
      expect(taken.statusCode).toBe(409);
      expect(taken.json()).toMatchObject({ code: 'CARD_TAKEN' });
      const still = await post('/v1/matches/current', web, { cardNo: ANNE.card, tcKimlikNo: ANNE.tc });
      expect(still.statusCode).toBe(200);
    });

    it('413 for an oversized body, 400 for unknown fields', async () => {
      const big = await post('/v1/matches/card-replacement', web, {
        cardNo: ANNE.card,
        tcKimlikNo: ANNE.tc,
        newCardNo: '0A00000000D1',
        newCardKind: 'PERSONAL',
        pad: 'x'.repeat(4096),
      });
      expect(big.statusCode).toBe(413);
      const extra = await post('/v1/matches/card-replacement', web, {
        cardNo: ANNE.card,
        tcKimlikNo: ANNE.tc,
        newCardNo: '0A00000000D1',
        newCardKind: 'PERSONAL',
        personId: 1,
      });
      expect(extra.statusCode).toBe(400);
      expect(extra.json()).toMatchObject({ code: 'INVALID_INPUT' });
    });
  });

  it('counts lookups and changes against the per-TC limit too (a card–TC pair cannot be guessed fast)', async () => {
    const limited = await createApiRig('regapi_changes_rate', {
      hes: twin(),
      now: () => clock,
      rateLimits: { perKeyPerMinute: 1000, perTcPerHour: 2 },
    });
    try {
      const { key } = await limited.keyFor('WEB');
      const statuses: number[] = [];
      for (const url of ['/v1/matches/current', '/v1/matches/hes-code', '/v1/matches/current']) {
        const res = await limited.app.inject({
          method: 'POST',
          url,
          headers: bearer(key),
          payload: {
            cardNo: `0B0000000${statuses.length}`,
            tcKimlikNo: ANNE.tc,
            ...(url.endsWith('hes-code') ? { hesCode: ANNE.hes } : {}),
          },
        });
        statuses.push(res.statusCode);
      }
      expect(statuses).toEqual([404, 404, 429]);
    } finally {
      await limited.close();
    }
  });
});

describe('POST /v1/matches/hes-code against the real HES client and the stand-in: slow and wrong', () => {
  let rig: ApiRig;
  let standIn: HesStandIn;

  beforeAll(async () => {
    standIn = createHesStandIn({
      records: [
        { tcKimlikNo: ANNE.tc, hesCode: ANNE.hes, status: 'RISKLESS' },
        { tcKimlikNo: ANNE.tc, hesCode: ANNE.hes2, status: 'RISKLESS' },
      ],
      slowMs: 1500,
    });
    const url = await standIn.listen({ host: '127.0.0.1', port: 0 });
    const hes = createHesClient({
      baseUrl: url,
      timeoutMs: 300,
      retries: 1,
      breaker: { failureThreshold: 50, resetAfterMs: 1000 },
      backoff: { startingDelayMs: 1, maxDelayMs: 5 },
    });
    rig = await createApiRig('regapi_changes_hes', { hes });
    const { key } = await rig.keyFor('WEB');
    const res = await rig.app.inject({
      method: 'POST',
      url: '/v1/matches',
      headers: bearer(key),
      payload: { cardNo: ANNE.card, tcKimlikNo: ANNE.tc, hesCode: ANNE.hes, cardKind: 'PERSONAL' },
    });
    expect(res.statusCode).toBe(201);
  });
  afterAll(async () => {
    await rig.close();
    await standIn.close();
  });

  it.each(['slow', 'wrong'] as const)(
    '503 HES_SERVICE_UNAVAILABLE when the service is %s, and the match is unchanged',
    async (mode) => {
      const { key } = await rig.keyFor('WEB');
      standIn.setMode(mode);
      try {
        const res = await rig.app.inject({
          method: 'POST',
          url: '/v1/matches/hes-code',
          headers: bearer(key),
          payload: { cardNo: ANNE.card, tcKimlikNo: ANNE.tc, hesCode: ANNE.hes2 },
        });
        expect(res.statusCode).toBe(503);
        expect(res.json()).toMatchObject({ code: 'HES_SERVICE_UNAVAILABLE', field: null });
        expectNoClearValues(res.body + rig.logs.join(''));
      } finally {
        standIn.setMode('normal');
      }
      const rows = await rig.database.db.select().from(matches);
      expect(rows).toHaveLength(1);
      expect(rows[0]?.validTo).toBeNull();
    },
  );
});
