import { matches, registryAudit } from '@boarding/db/schema';
import { InMemoryHesVerifier } from '@boarding/hes/in-memory-verifier';
import { revokeApiKey } from '@boarding/registry/verbs/revoke-api-key';
import { eq } from 'drizzle-orm';
import { type ApiRig, createApiRig } from '../registry-api.test-helpers';

// Valid TC kimlik nos (SPEC §3) and their HES codes.
const PEOPLE = [
  { tc: '17291716060', hes: 'AB12CD34E9' },
  { tc: '10000000146', hes: 'QW56ER78T1' },
  { tc: '10000000214', hes: 'ZX90CV12B3' },
  { tc: '10000000382', hes: 'RS45TU67V8' },
] as const;
const BAD_TC = '17291716050'; // one digit off: the check digits fail
const CLEAR_VALUES = [...PEOPLE.flatMap((p) => [p.tc, p.hes]), BAD_TC];

const twin = () =>
  new InMemoryHesVerifier(
    PEOPLE.map((p) => ({ tcKimlikNo: p.tc, hesCode: p.hes, status: 'RISKLESS' as const })),
  );

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('citizen pages (/, /hes-degistir, /kayip-kart, /eslesmem) with the web page key', () => {
  let rig: ApiRig;
  let clock = new Date('2026-12-01T10:00:00Z');
  const bodies: string[] = [];

  beforeAll(async () => {
    rig = await createApiRig('regapi_pages_citizen', { hes: twin(), webPageKey: 'WEB', now: () => clock });
  });
  afterAll(async () => {
    // Security: no clear TC or HES in any page or log line of the whole file.
    const all = `${bodies.join('\n')}\n${rig.logs.join('')}`;
    for (const value of CLEAR_VALUES) expect(all).not.toContain(value);
    await rig.close();
  });
  beforeEach(() => {
    clock = new Date(clock.getTime() + 60_000);
  });

  const post = async (url: string, form: Record<string, string>, headers: Record<string, string> = {}) => {
    const res = await rig.app.inject({
      method: 'POST',
      url,
      headers: { ...FORM, ...headers },
      payload: new URLSearchParams(form).toString(),
    });
    bodies.push(res.body);
    return res;
  };
  const get = async (url: string, headers: Record<string, string> = {}) => {
    const res = await rig.app.inject({ method: 'GET', url, headers });
    bodies.push(res.body);
    return res;
  };
  const matchRows = () => rig.database.db.select().from(matches);

  it('serves / as a Turkish one-step form: a label for every input, no caching, a CSP with a nonce', async () => {
    const res = await get('/');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-security-policy']).toMatch(/script-src 'nonce-[A-Za-z0-9+/=]+'/);
    expect(res.body).toContain('<html lang="tr">');
    for (const id of ['cardNo', 'tcKimlikNo', 'hesCode']) {
      expect(res.body).toContain(`<label for="${id}">`);
      expect(res.body).toMatch(new RegExp(`<input type="text" id="${id}" name="${id}"`));
    }
    expect(res.body).toContain('<legend>Kart türü</legend>');
    expect(res.body).toContain('href="/hes-degistir"');
    expect(res.body).toContain('href="/kayip-kart"');
    expect(res.body).toContain('href="/eslesmem"');
  });

  it('matches a card in one step with the web page key: Turkish success, masked values, audited with its key id', async () => {
    const [p] = PEOPLE;
    const res = await post('/', {
      cardNo: '0a1b2c3d4e5f6001',
      tcKimlikNo: p.tc,
      hesCode: 'ab12-cd34-e9',
      cardKind: 'PERSONAL',
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('Kartınız HES kodunuzla eşleştirildi');
    expect(res.body).toContain('*******6060');
    expect(res.body).toContain('****-****-E9');
    expect(res.body).toContain('0A1B2C3D4E5F6001');
    const rows = await matchRows();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ channel: 'WEB', actor: `apikey:${rig.webPageKey?.id}`, validTo: null });
    const [audit] = await rig.database.db
      .select()
      .from(registryAudit)
      .where(eq(registryAudit.matchId, rows[0]?.id ?? -1));
    expect(audit).toMatchObject({ action: 'MATCH_CARD', channel: 'WEB' });
  });

  it('a bad TC check digit: 400, the Turkish message next to the TC field, aria-invalid, the TC and HES not echoed', async () => {
    const before = (await matchRows()).length;
    const res = await post('/', {
      cardNo: '0A1B2C3D4E5F6002',
      tcKimlikNo: BAD_TC,
      hesCode: PEOPLE[1].hes,
      cardKind: 'ANONYMOUS',
    });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('TC kimlik numarası geçersiz: 11 hane ve doğru kontrol haneleri olmalı');
    expect(res.body).toContain('role="alert"');
    expect(res.body).toMatch(
      /<input type="text" id="tcKimlikNo" name="tcKimlikNo" value=""[^>]*aria-describedby="tcKimlikNo-hint tcKimlikNo-error" aria-invalid="true"[^>]* autofocus>/,
    );
    expect(res.body).toContain('<a href="#tcKimlikNo">');
    // The card number and kind come back; the TC and HES fields are empty.
    expect(res.body).toContain('value="0A1B2C3D4E5F6002"');
    expect(res.body).toMatch(/value="ANONYMOUS"[^>]* checked/);
    expect(res.body).toMatch(/id="hesCode" name="hesCode" value=""/);
    expect(res.body).not.toContain(BAD_TC);
    expect(res.body).not.toContain(PEOPLE[1].hes);
    expect((await matchRows()).length).toBe(before);
  });

  it('an empty form: a Turkish message for every field at once, in the order of the form', async () => {
    const res = await post('/', { cardNo: '', tcKimlikNo: '', hesCode: '' });
    expect(res.statusCode).toBe(400);
    const summary = res.body.slice(res.body.indexOf('error-summary'), res.body.indexOf('</ul>'));
    expect(summary).toContain('Kart numarası girin');
    expect(summary).toContain('TC kimlik numarası girin');
    expect(summary).toContain('HES kodu girin');
    expect(summary).toContain('Kart türünü seçin: Kişisel veya Anonim');
    expect(summary.indexOf('Kart numarası girin')).toBeLessThan(summary.indexOf('TC kimlik numarası girin'));
    expect(res.body.match(/aria-invalid="true"/g)?.length).toBe(3 + 2); // three inputs, two radios
  });

  it('CARD_TAKEN: 409 and "Bu kart başka bir kişiyle eşleşmiş" next to the card number', async () => {
    const first = await post('/', {
      cardNo: '0A1B2C3D4E5F6003',
      tcKimlikNo: PEOPLE[1].tc,
      hesCode: PEOPLE[1].hes,
      cardKind: 'PERSONAL',
    });
    expect(first.statusCode).toBe(200);
    clock = new Date(clock.getTime() + 60_000);
    const res = await post('/', {
      cardNo: '0A1B2C3D4E5F6003',
      tcKimlikNo: PEOPLE[2].tc,
      hesCode: PEOPLE[2].hes,
      cardKind: 'PERSONAL',
    });
    expect(res.statusCode).toBe(409);
    expect(res.body).toContain('<p class="error-message" id="cardNo-error">');
    expect(res.body).toContain('Bu kart başka bir kişiyle eşleşmiş');
  });

  it("HES_CODE_MISMATCH: another person's HES code is refused next to the HES field", async () => {
    const res = await post('/', {
      cardNo: '0A1B2C3D4E5F6004',
      tcKimlikNo: PEOPLE[3].tc,
      hesCode: PEOPLE[0].hes,
      cardKind: 'PERSONAL',
    });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('id="hesCode-error"');
    expect(res.body).toContain('Bu HES kodu bu TC kimlik numarasına ait değil');
  });

  it('shows, changes the HES code of, and replaces a lost card, all masked', async () => {
    const p = PEOPLE[1]; // matched to 0A1B2C3D4E5F6003 above
    const mine = await post('/eslesmem', { cardNo: '0A1B2C3D4E5F6003', tcKimlikNo: p.tc });
    expect(mine.statusCode).toBe(200);
    expect(mine.body).toContain('Kartınızın geçerli eşleşmesi');
    expect(mine.body).toContain('*******0146');
    const notMine = await post('/eslesmem', { cardNo: '0A1B2C3D4E5F6003', tcKimlikNo: PEOPLE[2].tc });
    expect(notMine.statusCode).toBe(404);
    expect(notMine.body).toContain('geçerli bir eşleşme bulunamadı');

    const same = await post('/hes-degistir', {
      cardNo: '0A1B2C3D4E5F6003',
      tcKimlikNo: p.tc,
      hesCode: p.hes,
    });
    expect(same.statusCode).toBe(200);
    expect(same.body).toContain('değişiklik yapılmadı');

    const lost = await post('/kayip-kart', {
      cardNo: '0A1B2C3D4E5F6003',
      tcKimlikNo: p.tc,
      newCardNo: '0A1B2C3D4E5F6005',
      newCardKind: 'ANONYMOUS',
    });
    expect(lost.statusCode).toBe(200);
    expect(lost.body).toContain('Yeni kartınız eşleştirildi');
    expect(lost.body).toContain('0A1B2C3D4E5F6005');

    // The new card taken by somebody else: the message is on the new card's field.
    const taken = await post('/kayip-kart', {
      cardNo: '0A1B2C3D4E5F6005',
      tcKimlikNo: p.tc,
      newCardNo: '0A1B2C3D4E5F6001',
      newCardKind: 'PERSONAL',
    });
    expect(taken.statusCode).toBe(409);
    expect(taken.body).toContain('id="newCardNo-error"');
    expect(taken.body).toContain('Yeni kart başka bir kişiyle eşleşmiş');
  });

  it('a kiosk provisioned at /device matches as KIOSK with its location, and its success page returns home', async () => {
    const kiosk = await rig.keyFor('KIOSK', 'metro-bornova');
    const set = await post('/device', { action: 'save', key: kiosk.key });
    expect(set.statusCode).toBe(200);
    expect(set.body).not.toContain(kiosk.key);
    expect(set.body).toContain('Kiosk');
    const cookie = String(set.headers['set-cookie']);
    expect(cookie).toBe(`boarding_device=${kiosk.key}; Path=/; Max-Age=34560000; HttpOnly; SameSite=Strict`);
    const res = await post(
      '/',
      { cardNo: '0A1B2C3D4E5F6006', tcKimlikNo: PEOPLE[2].tc, hesCode: PEOPLE[2].hes, cardKind: 'PERSONAL' },
      { cookie: `boarding_device=${kiosk.key}` },
    );
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('<meta http-equiv="refresh" content="60;url=/">');
    const [row] = (await matchRows()).filter((m) => m.actor === `apikey:${kiosk.id}@metro-bornova`);
    expect(row).toMatchObject({ channel: 'KIOSK', validTo: null });

    const forget = await post('/device', { action: 'forget' }, { cookie: `boarding_device=${kiosk.key}` });
    expect(String(forget.headers['set-cookie'])).toContain('boarding_device=; Path=/; Max-Age=0');
  });

  it('refuses a wrong key at /device without changing the device', async () => {
    const res = await post('/device', {
      action: 'save',
      key: 'bk_000000000000_wrongwrongwrongwrongwrongwrongwrongwrongwro',
    });
    expect(res.statusCode).toBe(401);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.body).toContain('Cihaz anahtarı geçersiz ya da iptal edilmiş');
    expect(res.body).not.toContain('wrongwrong');
  });

  it('a device whose key was revoked is told so (401), and does not fall back to the web page key', async () => {
    const kiosk = await rig.keyFor('KIOSK', 'metro-konak');
    await revokeApiKey({
      ctx: { db: rig.database.db, actor: { id: 'test', channel: 'ADMIN' } },
      input: { id: kiosk.id },
    });
    const before = (await matchRows()).length;
    const res = await post(
      '/',
      { cardNo: '0A1B2C3D4E5F6007', tcKimlikNo: PEOPLE[3].tc, hesCode: PEOPLE[3].hes, cardKind: 'PERSONAL' },
      { cookie: `boarding_device=${kiosk.key}` },
    );
    expect(res.statusCode).toBe(401);
    expect(res.body).toContain('Bu cihazın anahtarı geçersiz');
    expect(res.body).toContain('href="/device"');
    expect((await matchRows()).length).toBe(before);
  });

  it('a STAFF key in the device cookie cannot match at / (WRONG_CHANNEL from the route, in Turkish)', async () => {
    const staff = await rig.keyFor('STAFF');
    const res = await post(
      '/',
      { cardNo: '0A1B2C3D4E5F6008', tcKimlikNo: PEOPLE[3].tc, hesCode: PEOPLE[3].hes, cardKind: 'PERSONAL' },
      { cookie: `boarding_device=${staff.key}` },
    );
    expect(res.statusCode).toBe(403);
    expect(res.body).toContain('Bu cihaz bu işlem için yetkili değil.');
  });

  it('CSRF: a form post from a foreign Origin is 403 and changes nothing; its own origin is accepted', async () => {
    const before = (await matchRows()).length;
    const form = {
      cardNo: '0A1B2C3D4E5F6009',
      tcKimlikNo: PEOPLE[3].tc,
      hesCode: PEOPLE[3].hes,
      cardKind: 'PERSONAL',
    };
    for (const origin of ['https://evil.example', 'null', 'http://localhost:80.evil.example']) {
      const res = await post('/', form, { origin, host: 'localhost:80' });
      expect(res.statusCode).toBe(403);
      expect(res.body).toContain('başka bir siteden gönderilmiş');
    }
    const staffForeign = await post(
      '/staff',
      { action: 'lookup', cardNo: '0A1B2C3D4E5F6001' },
      { origin: 'https://evil.example' },
    );
    expect(staffForeign.statusCode).toBe(403);
    expect((await matchRows()).length).toBe(before);
    const own = await post('/', form, { origin: 'http://localhost:80', host: 'localhost:80' });
    expect(own.statusCode).toBe(200);
  });

  it('the /v1 API stays JSON-only: a form body is still 415, and the pages take no JSON', async () => {
    const api = await rig.app.inject({
      method: 'POST',
      url: '/v1/matches',
      headers: { ...FORM, authorization: `Bearer ${rig.webPageKey?.key}` },
      payload: 'cardNo=0A1B2C3D4E5F600A&tcKimlikNo=x',
    });
    expect(api.statusCode).toBe(415);
    expect(api.json()).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    const page = await rig.app.inject({ method: 'POST', url: '/', payload: { cardNo: '0A1B2C3D4E5F600A' } });
    expect(page.statusCode).toBe(415);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('Form tanınmayan bir biçimde gönderildi.');
  });

  it('escapes what it shows: a hostile card number comes back as text, not markup', async () => {
    const res = await post('/', { cardNo: '"><script>alert(1)</script>', tcKimlikNo: '', hesCode: '' });
    expect(res.statusCode).toBe(400);
    expect(res.body).not.toContain('<script>alert(1)');
    expect(res.body).toContain('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
  });
});

describe('citizen pages without a usable key', () => {
  it('no device key and no web page key: "not set up", 503 for the form post, a link to /device', async () => {
    const rig = await createApiRig('regapi_pages_unset', { hes: twin() });
    try {
      const page = await rig.app.inject({ method: 'GET', url: '/' });
      expect(page.statusCode).toBe(503);
      expect(page.body).toContain('Bu cihaz henüz ayarlanmamış');
      expect(page.body).toContain('href="/device"');
      const post = await rig.app.inject({
        method: 'POST',
        url: '/',
        headers: FORM,
        payload: new URLSearchParams({ cardNo: '0A1B2C3D', tcKimlikNo: PEOPLE[0].tc }).toString(),
      });
      expect(post.statusCode).toBe(503);
      expect(post.body).not.toContain(PEOPLE[0].tc);
      expect(await rig.database.db.select().from(matches)).toHaveLength(0);
    } finally {
      await rig.close();
    }
  });

  it('a web page key that is not a WEB key is refused at use, with a log line naming the setting', async () => {
    const rig = await createApiRig('regapi_pages_notweb', { hes: twin(), webPageKey: 'STAFF' });
    try {
      const res = await rig.app.inject({ method: 'GET', url: '/' });
      expect(res.statusCode).toBe(503);
      expect(res.body).toContain('Hizmet şu anda kullanılamıyor');
      expect(rig.logs.join('')).toContain('REGISTRY_API_WEB_PAGE_KEY is not a WEB key');
      expect(rig.logs.join('')).not.toContain(rig.webPageKey?.key ?? 'no key');
    } finally {
      await rig.close();
    }
  });
});
