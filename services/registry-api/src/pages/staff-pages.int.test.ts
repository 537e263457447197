import { matches } from '@boarding/db/schema';
import { InMemoryHesVerifier } from '@boarding/hes/in-memory-verifier';
import { asc, eq } from 'drizzle-orm';
import { type ApiRig, bearer, createApiRig } from '../registry-api.test-helpers';

// A wrong match (Anne's card typed in with Bora's TC and HES at the web site) fixed at /staff.
const ANNE = { tc: '17291716060', hes: 'AB12CD34E9' };
const BORA = { tc: '10000000146', hes: 'QW56ER78T1', card: '0C0000000001' };
const CLEAR = [ANNE.tc, ANNE.hes, BORA.tc, BORA.hes];
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('the staff page /staff', () => {
  let rig: ApiRig;
  let clock = new Date('2026-12-01T10:00:00Z');
  const bodies: string[] = [];
  let staffCookie: string;
  let wrongMatchId: number;

  const post = async (url: string, form: Record<string, string>, cookie?: string) => {
    const res = await rig.app.inject({
      method: 'POST',
      url,
      headers: { ...FORM, ...(cookie === undefined ? {} : { cookie }) },
      payload: new URLSearchParams(form).toString(),
    });
    bodies.push(res.body);
    return res;
  };
  const rowsOfCard = async () =>
    (await rig.database.db.select().from(matches).orderBy(asc(matches.id))).filter(
      (m) => m.id >= wrongMatchId,
    );

  beforeAll(async () => {
    rig = await createApiRig('regapi_pages_staff', {
      hes: new InMemoryHesVerifier([
        { tcKimlikNo: ANNE.tc, hesCode: ANNE.hes, status: 'RISKLESS' },
        { tcKimlikNo: BORA.tc, hesCode: BORA.hes, status: 'RISKY' },
      ]),
      now: () => clock,
    });
    const web = await rig.keyFor('WEB');
    const made = await rig.app.inject({
      method: 'POST',
      url: '/v1/matches',
      headers: bearer(web.key),
      payload: { cardNo: BORA.card, tcKimlikNo: BORA.tc, hesCode: BORA.hes, cardKind: 'PERSONAL' },
    });
    expect(made.statusCode).toBe(201);
    wrongMatchId = made.json().matchId;
    const staff = await rig.keyFor('STAFF');
    staffCookie = `boarding_device=${staff.key}`;
    clock = new Date('2026-12-01T12:00:00Z');
  });
  afterAll(async () => {
    const all = `${bodies.join('\n')}\n${rig.logs.join('')}`;
    for (const value of CLEAR) expect(all).not.toContain(value);
    await rig.close();
  });

  it('without a device key: 401, a Turkish "staff key required" page that shows no card', async () => {
    const page = await rig.app.inject({ method: 'GET', url: '/staff' });
    expect(page.statusCode).toBe(401);
    expect(page.body).toContain('Personel anahtarı gerekli');
    expect(page.body).toContain('href="/device"');
    const lookup = await post('/staff', { action: 'lookup', cardNo: BORA.card });
    expect(lookup.statusCode).toBe(401);
    expect(lookup.body).not.toContain(BORA.card);
    expect(lookup.body).not.toContain('*******0146');
  });

  it.each(['WEB', 'KIOSK'] as const)(
    'a %s key in the device cookie is refused (403) and sees nothing',
    async (channel) => {
      const { key } = await rig.keyFor(channel, channel === 'KIOSK' ? 'metro-konak' : undefined);
      const res = await post('/staff', { action: 'lookup', cardNo: BORA.card }, `boarding_device=${key}`);
      expect(res.statusCode).toBe(403);
      expect(res.body).toContain('Bu cihazın anahtarı bir personel anahtarı değil');
      expect(res.body).not.toContain(BORA.card);
      expect(res.body).not.toContain('*******0146');
    },
  );

  it('a staff device looks up a card: current match and history, masked', async () => {
    const home = await rig.app.inject({ method: 'GET', url: '/staff', headers: { cookie: staffCookie } });
    expect(home.statusCode).toBe(200);
    expect(home.body).toContain('<label for="lookup-cardNo">');
    const res = await post('/staff', { action: 'lookup', cardNo: BORA.card.toLowerCase() }, staffCookie);
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain(`Kart ${BORA.card}`);
    expect(res.body).toContain('Geçerli eşleşme');
    expect(res.body).toContain('*******0146');
    expect(res.body).toContain('****-****-T1');
    expect(res.body).toContain('Riskli');
    expect(res.body).toContain(`<td>#${wrongMatchId}</td>`);
    expect(res.body).toContain(`Eşleşme #${wrongMatchId}`);
  });

  it('a malformed card number is a Turkish field error on the lookup form', async () => {
    const res = await post('/staff', { action: 'lookup', cardNo: 'XYZ' }, staffCookie);
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('id="lookup-cardNo-error"');
    expect(res.body).toContain('Kart numarası geçersiz');
  });

  it('a correction without a real reason is refused next to the reason, and nothing changes', async () => {
    const res = await post(
      '/staff',
      {
        action: 'correct',
        cardNo: BORA.card,
        matchId: String(wrongMatchId),
        reason: 'no',
        tcKimlikNo: ANNE.tc,
      },
      staffCookie,
    );
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain(`id="fix-${wrongMatchId}-reason-error"`);
    expect(res.body).toContain('Gerekçe geçersiz');
    expect(res.body).toMatch(new RegExp(`id="fix-${wrongMatchId}-tcKimlikNo" name="tcKimlikNo" value=""`));
    const [row] = await rowsOfCard();
    expect(row?.retractedAt).toBeNull();
  });

  it('corrects the wrong match with a reason: the row is retracted with it, the corrected one made', async () => {
    const reason = 'Kart yanlış kişiye <eşleştirilmiş>; kimlik görüldü';
    const res = await post(
      '/staff',
      {
        action: 'correct',
        cardNo: BORA.card,
        matchId: String(wrongMatchId),
        reason,
        tcKimlikNo: ANNE.tc,
        hesCode: ANNE.hes,
        newCardNo: '',
        newCardKind: '',
      },
      staffCookie,
    );
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('Düzeltme kaydedildi');
    const rows = await rowsOfCard();
    expect(rows).toHaveLength(2);
    const [wrong, fixed] = rows;
    expect(wrong).toMatchObject({ id: wrongMatchId, retractReason: reason });
    expect(wrong?.retractedAt).not.toBeNull();
    expect(wrong?.correctedBy).toBe(fixed?.id);
    expect(fixed).toMatchObject({ retractedAt: null, cardId: wrong?.cardId });
    expect(fixed?.personId).not.toBe(wrong?.personId);
    expect(fixed?.actor).toMatch(/^apikey:[0-9a-f]{12}$/);
    // The page now shows the card's history with the retraction and its reason, escaped.
    expect(res.body).toContain('*******6060');
    expect(res.body).toContain('Kart yanlış kişiye &lt;eşleştirilmiş&gt;; kimlik görüldü');
    expect(res.body).not.toContain('<eşleştirilmiş>');
  });

  it('ends the current match with a reason', async () => {
    const res = await post(
      '/staff',
      { action: 'unmatch', cardNo: BORA.card, reason: 'Kart iade edildi' },
      staffCookie,
    );
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('Eşleşme sonlandırıldı');
    expect(res.body).toContain('Bu kartın şu an geçerli bir eşleşmesi yok.');
    const live = (await rowsOfCard()).filter((m) => m.retractedAt === null);
    expect(live).toHaveLength(1);
    expect(live[0]?.validTo?.toISOString()).toBe(clock.toISOString());
    const [again] = await rig.database.db.select().from(matches).where(eq(matches.id, wrongMatchId));
    expect(again?.retractReason).not.toBeNull();
  });

  it('a correction of an already corrected match says so in Turkish (404)', async () => {
    const res = await post(
      '/staff',
      { action: 'correct', cardNo: BORA.card, matchId: String(wrongMatchId), reason: 'ikinci deneme' },
      staffCookie,
    );
    expect(res.statusCode).toBe(404);
    expect(res.body).toContain('Eşleşme bulunamadı ya da daha önce düzeltilmiş');
  });
});
