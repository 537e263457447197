import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { findRepoRoot } from '@boarding/config/paths';
import { matches } from '@boarding/db/schema';
import { InMemoryHesVerifier } from '@boarding/hes/in-memory-verifier';
import { CHROMIUM_ARGS, ensureChromium } from '@boarding/testing/chromium';
import { type Browser, chromium, type Page } from 'playwright-core';
import { type ApiRig, createApiRig } from '../registry-api.test-helpers';

// The matching page in a real browser, at a phone's size and a portrait kiosk's: one step in
// Turkish, a success, and one field error where a person looks for it. Screenshots are kept
// (git-ignored) for a human to look at: `.local/artifacts/browser/`.
const PEOPLE = [
  { tc: '17291716060', hes: 'AB12CD34E9', card: '0B0000000001' },
  { tc: '10000000146', hes: 'QW56ER78T1', card: '0B0000000002' },
] as const;
const BAD_TC = '17291716050';
const SIZES = [
  { name: 'phone', width: 390, height: 844, person: PEOPLE[0] },
  { name: 'kiosk', width: 1080, height: 1920, person: PEOPLE[1] },
] as const;
const ARTIFACTS = join(findRepoRoot(), '.local', 'artifacts', 'browser');

describe('the matching page in Chromium', () => {
  let rig: ApiRig;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    const executablePath = await ensureChromium((m) => process.stderr.write(`chromium: ${m}\n`));
    mkdirSync(ARTIFACTS, { recursive: true });
    rig = await createApiRig('regapi_pages_browser', {
      hes: new InMemoryHesVerifier(
        PEOPLE.map((p) => ({ tcKimlikNo: p.tc, hesCode: p.hes, status: 'RISKLESS' as const })),
      ),
      webPageKey: 'WEB',
    });
    base = await rig.app.listen({ host: '127.0.0.1', port: 0 });
    browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await rig?.close();
  });

  const fillForm = async (page: Page, values: { card: string; tc: string; hes: string }) => {
    await page.getByLabel('Kart numarası', { exact: true }).fill(values.card);
    await page.getByLabel('TC kimlik numarası', { exact: true }).fill(values.tc);
    await page.getByLabel('HES kodu', { exact: true }).fill(values.hes);
    await page.getByRole('radio', { name: /Kişisel/ }).check();
  };
  const submit = async (page: Page) => {
    await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: 'Eşleştir' }).click()]);
  };

  it.each(SIZES.map((s) => [s.name, s] as const))(
    'at %s size: matches in one step, then shows a Turkish field error on a bad TC',
    async (name, size) => {
      const { person } = size;
      const context = await browser.newContext({
        viewport: { width: size.width, height: size.height },
        locale: 'tr-TR',
      });
      try {
        const page = await context.newPage();
        await page.goto(`${base}/`);
        expect(await page.getAttribute('html', 'lang')).toBe('tr');
        // Usable at this width: nothing sticks out sideways.
        // (Expressions as strings: this package's TypeScript has no DOM library, the browser runs them.)
        const overflow = await page.evaluate<number>(
          'document.documentElement.scrollWidth - document.documentElement.clientWidth',
        );
        expect(overflow).toBeLessThanOrEqual(0);
        // Focus order is the visual order: card, TC, HES, kind, button.
        await page.getByLabel('Kart numarası', { exact: true }).focus();
        const order: string[] = [];
        for (let i = 0; i < 4; i++) {
          await page.keyboard.press('Tab');
          order.push((await page.locator(':focus').getAttribute('name')) ?? 'button');
        }
        expect(order).toEqual(['tcKimlikNo', 'hesCode', 'cardKind', 'button']);
        await page.screenshot({ path: join(ARTIFACTS, `${name}-1-form.png`), fullPage: true });

        await fillForm(page, { card: person.card, tc: person.tc, hes: person.hes });
        await submit(page);
        await page.getByRole('heading', { name: 'Kartınız HES kodunuzla eşleştirildi' }).waitFor();
        const success = await page.textContent('main');
        expect(success).toContain(`*******${person.tc.slice(-4)}`);
        expect(success).not.toContain(person.tc);
        await page.screenshot({ path: join(ARTIFACTS, `${name}-2-success.png`), fullPage: true });

        await page.goto(`${base}/`);
        await fillForm(page, { card: '0B00000000FF', tc: BAD_TC, hes: person.hes });
        await submit(page);
        const error = page.locator('#tcKimlikNo-error');
        await error.waitFor();
        expect(await error.textContent()).toContain(
          'TC kimlik numarası geçersiz: 11 hane ve doğru kontrol haneleri olmalı',
        );
        // Next to its field (in the field's own box, just above the input), which has the focus.
        const tc = page.locator('#tcKimlikNo');
        expect(await page.locator('.field').filter({ has: tc }).locator('#tcKimlikNo-error').count()).toBe(1);
        const [errorBox, inputBox] = [await error.boundingBox(), await tc.boundingBox()];
        expect(inputBox && errorBox && inputBox.y - (errorBox.y + errorBox.height)).toBeLessThan(60);
        expect(await tc.getAttribute('aria-invalid')).toBe('true');
        expect(await page.locator(':focus').getAttribute('id')).toBe('tcKimlikNo');
        expect(await tc.inputValue()).toBe('');
        expect(await page.getByLabel('Kart numarası', { exact: true }).inputValue()).toBe('0B00000000FF');
        expect(await page.getByRole('alert').textContent()).toContain('Lütfen şunları düzeltin');
        expect(await page.content()).not.toContain(BAD_TC);
        await page.screenshot({ path: join(ARTIFACTS, `${name}-3-tc-error.png`), fullPage: true });
      } finally {
        await context.close();
      }
    },
  );

  it('left one match per person in the registry, made with the web page key', async () => {
    const rows = await rig.database.db.select().from(matches);
    expect(rows).toHaveLength(PEOPLE.length);
    for (const row of rows) expect(row.actor).toBe(`apikey:${rig.webPageKey?.id}`);
  });
});
