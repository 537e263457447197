import { InMemoryTransport } from '@boarding/delivery/memory-transport';
import { createExporterRig, type ExporterRig } from '../exporter.test-helpers';
import { seedWeek, WEEK } from './day-pages.test-helpers';

const TOKEN = 'board-token-for-the-day-pages-0123456789';
const bearer = { authorization: `Bearer ${TOKEN}` };
// Monday 2020-11-23, 10:00 in Istanbul: the default range is 2020-10-24 … 2020-11-22.
const NOW = new Date('2020-11-23T10:00:00+03:00');

/** The cells of the `/days` row of one day, tags stripped. */
function rowOf(body: string, day: string): string[] {
  const row = body.split('<tr').find((r) => r.includes(`href="/days/${day}"`));
  if (!row) throw new Error(`no row for ${day}`);
  return [...row.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((m) =>
    (m[1] ?? '')
      .replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim(),
  );
}

describe('exporter: day-status pages', () => {
  let rig: ExporterRig;
  let ops: ReturnType<ExporterRig['createService']>['ops'];

  beforeAll(async () => {
    rig = await createExporterRig('day_pages', { sftp: false });
    await seedWeek(rig.db.pool);
    ops = rig.createService({
      deps: { transport: new InMemoryTransport(), now: () => NOW },
      overrides: { EXPORTER_BOARD_TOKEN: TOKEN },
    }).ops;
  });
  afterAll(async () => {
    await rig.teardown();
  });

  describe('happy', () => {
    it('/days lists the 30 days before today, newest first, with the numbers of each day and its alerts', async () => {
      const res = await ops.inject({ url: '/days', headers: bearer });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['content-security-policy']).toMatch(/^default-src 'none'; style-src 'sha256-/);
      expect(res.body).toContain('2020-10-24 to 2020-11-22, newest first');
      const days = [...res.body.matchAll(/href="\/days\/(\d{4}-\d{2}-\d{2})"/g)].map((m) => m[1]);
      expect(days).toHaveLength(30);
      expect(days.slice(0, 7)).toEqual([...WEEK].reverse());
      // day, taps, matched, dead letters, complete, ingest behind, version, delivered at, alerts
      expect(rowOf(res.body, '2020-11-22')).toEqual([
        '2020-11-22',
        '900',
        '80.0 %',
        '0',
        '100.0 %',
        'caught up',
        'v1',
        '2020-11-23 03:41',
        'silent fleet',
      ]);
      expect(rowOf(res.body, '2020-11-21')).toEqual([
        '2020-11-21',
        '2,000',
        '80.0 %',
        '0',
        '100.0 %',
        '120 behind',
        'v1',
        '2020-11-22 03:41',
        'ingest behind',
      ]);
      expect(rowOf(res.body, '2020-11-20')).toEqual([
        '2020-11-20',
        '3,000',
        '80.0 %',
        '3',
        '100.0 %',
        'caught up',
        'v1',
        '2020-11-21 03:41',
        'delivery failing',
      ]);
      expect(rowOf(res.body, '2020-11-19')).toEqual([
        '2020-11-19',
        '3,000',
        '80.0 %',
        '0',
        '100.0 %',
        'caught up',
        'v2',
        '2020-11-21 03:41',
        '',
      ]);
      expect(rowOf(res.body, '2020-11-18')).toEqual([
        '2020-11-18',
        '2,995',
        '80.0 %',
        '0',
        '90.0 %',
        'caught up',
        'v1',
        '2020-11-19 03:41',
        '',
      ]);
      expect(rowOf(res.body, '2020-11-01')).toEqual(['2020-11-01', '0', '–', '0', '–', '–', '–', '–', '']);
      expect(res.body).toContain('3 day(s) with alerts.');
    });

    it('/days takes a range as ?from=&to=', async () => {
      const res = await ops.inject({ url: '/days?from=2020-11-20&to=2020-11-22', headers: bearer });
      expect(res.statusCode).toBe(200);
      const days = [...res.body.matchAll(/href="\/days\/(\d{4}-\d{2}-\d{2})"/g)].map((m) => m[1]);
      expect(days).toEqual(['2020-11-22', '2020-11-21', '2020-11-20']);
    });

    it('/days/D charts the taps per 10 minutes and lists gaps, versions and a link to its job in Bull Board', async () => {
      const res = await ops.inject({ url: '/days/2020-11-18', headers: bearer });
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('<h1>Service day 2020-11-18</h1>');
      expect(res.body).toContain(`href="/board/queue/${rig.env.EXPORT_QUEUE}/export-2020-11-18"`);
      expect(res.body).toContain('2,995 (2,826 accepted, 169 rejected)');
      expect(res.body).toContain('10 seen, 9 complete (90.0 %), 1 with gaps');
      expect(res.body).toMatch(/<code>V-03<\/code><\/td><td>2100–2104<\/td>/);
      // One bar per 10 minutes that had taps; their counts add up to the day's taps.
      const bars = [
        ...res.body.matchAll(/<rect class="bar"[^>]*><title>(\d\d:\d\d)–\d\d:\d\d: ([\d,]+)<\/title>/g),
      ];
      expect(bars.length).toBeGreaterThan(60);
      expect(bars.length).toBeLessThanOrEqual(144);
      expect(bars.reduce((n, m) => n + Number((m[2] ?? '').replaceAll(',', '')), 0)).toBe(2995);
      expect(bars[0]?.[1]).toBe('06:00');
      expect(res.body).toContain('<code>BINIS_ESHOT_20201118_v1.csv</code>');
    });

    it('/days/D names its dead letters by reason, its alerts and its failed try, escaped', async () => {
      const res = await ops.inject({ url: '/days/2020-11-20', headers: bearer });
      expect(res.statusCode).toBe(200);
      expect(res.body).toMatch(/<code>INVALID_JSON<\/code><\/td><td class="num">2<\/td>/);
      expect(res.body).toMatch(/<code>SEQ_CONFLICT<\/code><\/td><td class="num">1<\/td>/);
      expect(res.body).toContain('delivery failing: the newest delivery try failed');
      expect(res.body).toContain('ECONNREFUSED connect ECONNREFUSED &lt;script&gt;alert(1)&lt;/script&gt;');
      expect(res.body).not.toContain('<script');
      const sunday = await ops.inject({ url: '/days/2020-11-22', headers: bearer });
      expect(sunday.body).toContain('4 of 10 seen in the week before (as of v1)');
      expect(sunday.body).toContain('V-07, V-08, V-09, V-10');
    });
  });

  describe('error', () => {
    it.each([
      ['/days/2020-02-30', 'Not a day'],
      ['/days/latest', 'Not a day'],
      ['/days?from=2020-11-22&to=2020-11-01', 'from (2020-11-22) is after to (2020-11-01)'],
      ['/days?from=2019-01-01&to=2020-11-01', 'a range is at most 366 days long'],
      ['/days?from=%3Cb%3E', 'from must be a date as YYYY-MM-DD, got &quot;&lt;b&gt;&quot;'],
    ])('answers 400 with a page to %s', async (url, says) => {
      const res = await ops.inject({ url, headers: bearer });
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.body).toContain(says);
    });
  });

  describe('security', () => {
    it.each([
      ['no credentials', undefined],
      ['a wrong Bearer token', 'Bearer board-token-for-the-day-pages-0123456788'],
      ['the token as the Basic user name', `Basic ${Buffer.from(`${TOKEN}:`).toString('base64')}`],
    ])('answers 401 with a Basic challenge to %s', async (_what, authorization) => {
      for (const url of ['/days', '/days/', '/days/2020-11-20', '/days?from=2020-11-20&to=2020-11-22']) {
        const res = await ops.inject({ url, headers: authorization ? { authorization } : {} });
        expect([url, res.statusCode]).toEqual([url, 401]);
        expect(res.headers['www-authenticate']).toBe('Basic realm="boarding"');
        expect(res.body).not.toContain('2020-11-20');
      }
    });

    it('takes the token as the Basic password, as a browser sends it', async () => {
      const basic = `Basic ${Buffer.from(`ops:${TOKEN}`).toString('base64')}`;
      expect(
        (await ops.inject({ url: '/days/2020-11-20', headers: { authorization: basic } })).statusCode,
      ).toBe(200);
    });

    it('does not mount the pages (404) when no board token is configured', async () => {
      const bare = rig.createService({ deps: { transport: new InMemoryTransport() } }).ops;
      expect((await bare.inject({ url: '/days', headers: bearer })).statusCode).toBe(404);
      expect((await bare.inject({ url: '/days/2020-11-20', headers: bearer })).statusCode).toBe(404);
    });
  });
});
