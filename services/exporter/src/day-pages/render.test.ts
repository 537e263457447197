import { createHash } from 'node:crypto';
import type { DaySummary } from '@boarding/day/summarize-days';
import { escapeHtml, Html, html } from '@boarding/ops-http/html';
import { barChartSvg, clock, niceCeiling } from './bar-chart';
import { DAY_PAGES_CSP, istanbulTime, type PageLinks, renderDaysPage } from './render';

const LINKS: PageLinks = {
  daysPath: '/days',
  boardQueue: '/board/queue/boarding-export',
  boardJob: (day) => `/board/queue/boarding-export/export-${day}`,
};

const summary = (over: Partial<DaySummary> = {}): DaySummary => ({
  day: '2020-11-20',
  taps: 1234567,
  matchedPercent: 61.5,
  deadLetters: 3,
  duplicates: 0,
  validatorsSeen: 8000,
  validatorsComplete: 7990,
  completePercent: 99.9,
  ingestBehind: { messages: 0, oldestUnreadAt: null },
  latestVersion: { version: 2, state: 'DELIVERED', rows: 759000 },
  deliveredAt: '2020-11-21T00:41:00.000Z',
  failedAttempts: 0,
  alerts: [],
  ...over,
});

describe('html', () => {
  it('escapes every interpolated value, nested arrays included, and keeps Html made by html', () => {
    const hostile = `<img src=x onerror="alert('x')">&\``;
    expect(html`<p title="${hostile}">${[hostile, html`<b>${hostile}</b>`]}</p>`.text).toBe(
      `<p title="${escapeHtml(hostile)}">${escapeHtml(hostile)}<b>${escapeHtml(hostile)}</b></p>`,
    );
    expect(escapeHtml(hostile)).toBe('&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;&#96;');
  });

  it('renders nothing for false, null and undefined', () => {
    expect(html`[${false}${null}${undefined}${0}]`.text).toBe('[0]');
  });
});

describe('bar chart', () => {
  it('puts the top of the axis on four round steps', () => {
    expect([0, 1, 3, 4, 5, 9, 117, 400, 401, 1999, 2_000_001].map(niceCeiling)).toEqual([
      0, 4, 4, 4, 8, 20, 200, 400, 800, 2000, 4_000_000,
    ]);
  });

  it('writes HH:MM from minutes of the day', () => {
    expect([0, 10, 510, 1440].map(clock)).toEqual(['00:00', '00:10', '08:30', '24:00']);
  });

  it('draws one titled bar per non-empty interval, scaled to the axis, and labels every 3 hours', () => {
    const counts = new Array<number>(144).fill(0);
    counts[51] = 100; // 08:30–08:40
    counts[108] = 50; // 18:00–18:10
    const svg = barChartSvg(counts, { title: 'Taps <per> 10 minutes', intervalMinutes: 10 }).text;
    const bars = [
      ...svg.matchAll(
        /<rect class="bar" x="([\d.]+)" y="([\d.]+)" width="[\d.]+" height="([\d.]+)"><title>([^<]*)<\/title>/g,
      ),
    ];
    expect(bars.map((b) => b[4])).toEqual(['08:30–08:40: 100', '18:00–18:10: 50']);
    // The axis tops at 100 (4 × 25): the first bar fills the plot's height, the second half of it.
    expect(Number(bars[0]?.[3])).toBeCloseTo(2 * Number(bars[1]?.[3]), 0);
    expect([...svg.matchAll(/text-anchor="middle">(\d\d:\d\d)</g)].map((m) => m[1])).toEqual([
      '00:00',
      '03:00',
      '06:00',
      '09:00',
      '12:00',
      '15:00',
      '18:00',
      '21:00',
      '24:00',
    ]);
    expect(svg).toContain('<title id="chart-title">Taps &lt;per&gt; 10 minutes</title>');
    expect(svg).toContain('role="img"');
  });

  it('draws an empty day as axes without bars', () => {
    const svg = barChartSvg(new Array<number>(144).fill(0), { title: 'none', intervalMinutes: 10 }).text;
    expect(svg).not.toContain('<rect');
    expect(svg).toContain('<svg');
  });
});

describe('the /days page', () => {
  it('allows its one stylesheet by hash and nothing else', () => {
    const page = renderDaysPage([summary()], { from: '2020-11-20', to: '2020-11-20' }, LINKS);
    const css = /<style>([\s\S]*?)<\/style>/.exec(page)?.[1] ?? '';
    const hash = createHash('sha256').update(css).digest('base64');
    expect(DAY_PAGES_CSP).toContain(`style-src 'sha256-${hash}'`);
    expect(DAY_PAGES_CSP).toContain("default-src 'none'");
    expect(page).not.toMatch(/<script|style="|https?:\/\//);
  });

  it('shows a day with its numbers, link and alerts, every text escaped', () => {
    const page = renderDaysPage(
      [
        summary({
          alerts: [{ code: 'DELIVERY_FAILING', message: 'the newest delivery try failed <b>"now"</b>' }],
          latestVersion: { version: 3, state: 'IN_FLIGHT', rows: 1 },
          ingestBehind: { messages: 1200, oldestUnreadAt: '2020-11-20T20:58:00.000Z' },
        }),
      ],
      { from: '2020-11-20', to: '2020-11-20' },
      LINKS,
    );
    expect(page).toContain('<a href="/days/2020-11-20">2020-11-20</a>');
    expect(page).toContain('<td class="num">1,234,567</td>');
    expect(page).toContain('<td class="num">61.5 %</td>');
    expect(page).toContain('<td class="num">1,200 behind</td>');
    expect(page).toContain('<td>v3 (in flight)</td>');
    expect(page).toContain('<td class="num">2020-11-21 03:41</td>');
    expect(page).toContain(
      'title="the newest delivery try failed &lt;b&gt;&quot;now&quot;&lt;/b&gt;">delivery failing</span>',
    );
    expect(page).toContain('1 day(s) with alerts.');
  });

  it('marks a day with nothing built as dashes', () => {
    const page = renderDaysPage(
      [
        summary({
          matchedPercent: null,
          completePercent: null,
          latestVersion: null,
          ingestBehind: null,
          deliveredAt: null,
        }),
      ],
      { from: '2020-11-20', to: '2020-11-20' },
      LINKS,
    );
    expect(page).toMatch(
      /<td class="num">–<\/td>\n<td class="num">3<\/td>\n<td class="num">–<\/td>\n<td class="num">–<\/td>\n<td>–<\/td>/,
    );
    expect(page).toContain('No alerts in this range.');
  });
});

describe('istanbulTime', () => {
  it('shows an instant on the Istanbul wall clock, to the minute', () => {
    expect(istanbulTime('2020-11-20T21:30:59.999Z')).toBe('2020-11-21 00:30');
    expect(istanbulTime(null)).toBe('–');
  });
});

it('keeps Html as it is', () => {
  expect(html`${new Html('<br>')}`.text).toBe('<br>');
});
