import { matches, registryAudit } from '@boarding/db/schema';
import { InMemoryHesVerifier } from '@boarding/hes/in-memory-verifier';
import { asc, eq } from 'drizzle-orm';
import { type ApiRig, bearer, createApiRig } from './registry-api.test-helpers';

// Staff operations (SPEC §9, STAFF keys only): look up a card, its masked history, a correction
// with a reason, an unmatch. A wrong match is fixed by staff with a reason, and audited.
const ANNE = { tc: '17291716060', hes: 'AB12CD34E9', card: '0C0000000001' };
const BORA = { tc: '10000000146', hes: 'QW56ER78T1' };
const CLEAR = [ANNE.tc, ANNE.hes, BORA.tc, BORA.hes];

describe('staff routes', () => {
  let rig: ApiRig;
  let clock = new Date('2026-12-01T10:00:00Z');
  const bodies: string[] = [];
  let staff: { id: string; key: string };
  let web: string;
  let firstMatchId: number;
  const post = async (url: string, key: string | null, payload: Record<string, unknown>) => {
    const res = await rig.app.inject({
      method: 'POST',
      url,
      headers: key === null ? {} : bearer(key),
      payload,
    });
    bodies.push(res.body);
    return res;
  };

  beforeAll(async () => {
    rig = await createApiRig('regapi_staff', {
      hes: new InMemoryHesVerifier([
        { tcKimlikNo: ANNE.tc, hesCode: ANNE.hes, status: 'RISKY' },
        { tcKimlikNo: BORA.tc, hesCode: BORA.hes, status: 'RISKLESS' },
      ]),
      now: () => clock,
    });
    staff = await rig.keyFor('STAFF');
    web = (await rig.keyFor('WEB')).key;
    // The wrong match to fix: Anne's card typed in for Bora at the web site.
    const res = await post('/v1/matches', web, {
      cardNo: ANNE.card,
      tcKimlikNo: BORA.tc,
      hesCode: BORA.hes,
      cardKind: 'PERSONAL',
    });
    expect(res.statusCode).toBe(201);
    firstMatchId = res.json().matchId;
  });
  afterAll(async () => {
    for (const value of CLEAR) {
      expect(bodies.join('\n')).not.toContain(value);
      expect(rig.logs.join('')).not.toContain(value);
    }
    await rig.close();
  });
  beforeEach(() => {
    clock = new Date(clock.getTime() + 60_000);
  });

  it('a correction with a reason retracts the wrong match and puts the right person in its place, audited with the key', async () => {
    const res = await post('/v1/staff/corrections', staff.key, {
      matchId: firstMatchId,
      reason: 'kart numarası yanlış kişiye girilmiş (ticket 4411)',
      replacement: { tcKimlikNo: ANNE.tc, hesCode: ANNE.hes },
    });
    expect(res.statusCode).toBe(200);
    const { retractedMatchId, matchId } = res.json();
    expect(retractedMatchId).toBe(firstMatchId);
    const rows = await rig.database.db.select().from(matches).orderBy(asc(matches.id));
    expect(rows.map((r) => [r.id, r.retractReason, r.channel])).toEqual([
      [firstMatchId, 'kart numarası yanlış kişiye girilmiş (ticket 4411)', 'WEB'],
      [matchId, null, 'STAFF'],
    ]);
    const [audit] = await rig.database.db
      .select()
      .from(registryAudit)
      .where(eq(registryAudit.action, 'CORRECT_MATCH'));
    expect(audit).toMatchObject({
      channel: 'STAFF',
      keyId: staff.id,
      locationId: null,
      matchId: firstMatchId,
    });
    expect(audit?.detail).toMatchObject({ reason: 'kart numarası yanlış kişiye girilmiş (ticket 4411)' });
  });

  it('shows the masked history, retracted match and reason included, oldest first', async () => {
    const res = await post('/v1/staff/card-history', staff.key, { cardNo: ANNE.card.toLowerCase() });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.cardNo).toBe(ANNE.card);
    expect(
      body.matches.map((m: Record<string, unknown>) => [
        m.tcKimlikNo,
        m.hesCode,
        m.hesStatus,
        m.retractReason,
      ]),
    ).toEqual([
      ['*******0146', '****-****-T1', 'RISKLESS', 'kart numarası yanlış kişiye girilmiş (ticket 4411)'],
      ['*******6060', '****-****-E9', null, null],
    ]);
  });

  it('looks up the current match, masked', async () => {
    const res = await post('/v1/staff/card-lookup', staff.key, { cardNo: ANNE.card });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ tcKimlikNo: '*******6060', channel: 'STAFF', validTo: null });
  });

  it('400 for a correction without a reason; 404 for a match that does not exist', async () => {
    const noReason = await post('/v1/staff/corrections', staff.key, {
      matchId: firstMatchId,
      reason: ' ok ',
    });
    expect(noReason.statusCode).toBe(400);
    expect(noReason.json()).toMatchObject({ code: 'INVALID_INPUT', field: 'reason' });
    const missing = await post('/v1/staff/corrections', staff.key, {
      matchId: 999_999,
      reason: 'test of a missing one',
    });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'MATCH_NOT_FOUND', field: 'matchId' });
    const again = await post('/v1/staff/corrections', staff.key, {
      matchId: firstMatchId,
      reason: 'retract it twice',
    });
    expect(again.statusCode).toBe(404);
  });

  it('unmatch with a reason ends the current match now; a second unmatch is 404', async () => {
    const res = await post('/v1/staff/unmatch', staff.key, { cardNo: ANNE.card, reason: 'kart iade edildi' });
    expect(res.statusCode).toBe(200);
    const [ended] = await rig.database.db
      .select()
      .from(matches)
      .where(eq(matches.id, res.json().endedMatchId));
    expect(ended?.validTo?.toISOString()).toBe(clock.toISOString());
    const [audit] = await rig.database.db
      .select()
      .from(registryAudit)
      .where(eq(registryAudit.action, 'UNMATCH_CARD'));
    expect(audit).toMatchObject({
      keyId: staff.id,
      detail: expect.objectContaining({ reason: 'kart iade edildi' }),
    });
    const again = await post('/v1/staff/unmatch', staff.key, {
      cardNo: ANNE.card,
      reason: 'kart iade edildi',
    });
    expect(again.statusCode).toBe(404);
  });

  it.each(['WEB', 'KIOSK', 'ACTIVATION_POINT'] as const)(
    'a %s key can call no staff route (403), and nothing changes',
    async (channel) => {
      const { key } = await rig.keyFor(channel, channel === 'WEB' ? undefined : 'metro-bornova');
      const before = await rig.database.db.select().from(matches);
      for (const [url, payload] of [
        ['/v1/staff/card-lookup', { cardNo: ANNE.card }],
        ['/v1/staff/card-history', { cardNo: ANNE.card }],
        ['/v1/staff/corrections', { matchId: firstMatchId, reason: 'not allowed here' }],
        ['/v1/staff/unmatch', { cardNo: ANNE.card, reason: 'not allowed here' }],
      ] as const) {
        const res = await post(url, key, payload);
        expect(res.statusCode).toBe(403);
        expect(res.json()).toMatchObject({ code: 'WRONG_CHANNEL' });
      }
      expect(await rig.database.db.select().from(matches)).toEqual(before);
    },
  );

  it('401 without a key and with a revoked one', async () => {
    const none = await post('/v1/staff/card-history', null, { cardNo: ANNE.card });
    expect(none.statusCode).toBe(401);
    const { key, id } = await rig.keyFor('STAFF');
    await rig.database.pool.query('update api_keys set revoked_at = now() where id = $1', [id]);
    const revoked = await post('/v1/staff/card-history', key, { cardNo: ANNE.card });
    expect(revoked.statusCode).toBe(401);
  });
});
