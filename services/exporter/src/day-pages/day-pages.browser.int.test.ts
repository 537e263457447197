import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { findRepoRoot } from '@boarding/config/paths';
import { InMemoryTransport } from '@boarding/delivery/memory-transport';
import { CHROMIUM_ARGS, ensureChromium } from '@boarding/testing/chromium';
import { type Browser, chromium } from 'playwright-core';
import { createExporterRig, type ExporterRig } from '../exporter.test-helpers';
import { seedWeek } from './day-pages.test-helpers';

// Both day pages in a real browser on the simulated week, logged in the way an operator's browser
// is (the board token as the Basic password). Screenshots are kept (git-ignored) for a human to
// look at: `.local/artifacts/browser/days-*.png`.
const TOKEN = 'board-token-for-the-day-pages-browser-01234';
const NOW = new Date('2020-11-23T10:00:00+03:00');
const ARTIFACTS = join(findRepoRoot(), '.local', 'artifacts', 'browser');

describe('the day-status pages in Chromium', () => {
  let rig: ExporterRig;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    const executablePath = await ensureChromium((m) => process.stderr.write(`chromium: ${m}\n`));
    mkdirSync(ARTIFACTS, { recursive: true });
    rig = await createExporterRig('day_pages_browser', { sftp: false });
    await seedWeek(rig.db.pool);
    const { ops } = rig.createService({
      deps: { transport: new InMemoryTransport(), now: () => NOW },
      overrides: { EXPORTER_BOARD_TOKEN: TOKEN },
    });
    base = await ops.listen({ host: '127.0.0.1', port: 0 });
    browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await rig?.teardown();
  });

  it('shows the week on /days, follows a day to /days/D with its chart, and breaks no CSP rule', async () => {
    const context = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      httpCredentials: { username: 'ops', password: TOKEN },
    });
    try {
      const page = await context.newPage();
      const violations: string[] = [];
      page.on('console', (m) => {
        if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
      });
      await page.goto(`${base}/days`);
      expect(await page.getAttribute('html', 'lang')).toBe('en');
      await page.getByRole('heading', { name: 'Service days' }).waitFor();
      expect(await page.locator('tbody tr').count()).toBe(30);
      expect(await page.locator('tbody tr.alerting').count()).toBe(3);
      // The stylesheet applied (allowed by its hash): alert badges are white on dark red.
      // (Expressions as strings: this package's TypeScript has no DOM library, the browser runs them.)
      const badgeColour = await page.evaluate<string>(
        "getComputedStyle(document.querySelector('tr.alerting .badge')).backgroundColor",
      );
      expect(badgeColour).toBe('rgb(164, 0, 15)');
      await page.screenshot({ path: join(ARTIFACTS, 'days-1-list.png'), fullPage: true });

      await Promise.all([page.waitForEvent('load'), page.getByRole('link', { name: '2020-11-18' }).click()]);
      expect(page.url()).toBe(`${base}/days/2020-11-18`);
      await page.getByRole('heading', { name: 'Service day 2020-11-18' }).waitFor();
      const chart = page.getByRole('img', { name: /Taps stored per 10 minutes on 2020-11-18/ });
      const box = await chart.boundingBox();
      expect(box?.width).toBeGreaterThan(600);
      expect(box?.height).toBeGreaterThan(120);
      expect(await page.locator('svg.chart rect.bar').count()).toBeGreaterThan(60);
      const job = page.getByRole('link', { name: "This day's export job in Bull Board" });
      expect(await job.getAttribute('href')).toBe(`/board/queue/${rig.env.EXPORT_QUEUE}/export-2020-11-18`);
      await page.screenshot({ path: join(ARTIFACTS, 'days-2-day.png'), fullPage: true });

      await page.goto(`${base}/days/2020-11-20`);
      await page.getByRole('alert').waitFor();
      expect(await page.getByRole('alert').textContent()).toContain('delivery failing');
      await page.screenshot({ path: join(ARTIFACTS, 'days-3-failing-day.png'), fullPage: true });
      expect(violations).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('asks for the token: without credentials the browser is refused (401, Basic challenge)', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const statuses: number[] = [];
      page.on('response', (r) => statuses.push(r.status()));
      // Headless Chromium has no one to ask for the password: it gives up on the challenge.
      await expect(page.goto(`${base}/days`)).rejects.toThrow(/ERR_INVALID_AUTH_CREDENTIALS/);
      expect(statuses).toEqual([401]);
    } finally {
      await context.close();
    }
  });
});
