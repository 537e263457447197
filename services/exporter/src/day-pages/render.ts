import { createHash } from 'node:crypto';
import { SERVICE_TIME_ZONE, utcOffsetMs } from '@boarding/contracts/time';
import type { DayInspection } from '@boarding/day/inspect-day';
import type { DayAlert, DayRange, DaySummary } from '@boarding/day/summarize-days';
import type { IngestBehind } from '@boarding/export/manifest';
import { Html, type HtmlValue, html } from '@boarding/ops-http/html';
import { barChartSvg } from './bar-chart';

/**
 * The day-status pages of the ops server, in English (they are for the operator's engineers).
 * Server-rendered, no script and no external asset: the one inline stylesheet is allowed by its
 * hash in the CSP, the chart is inline SVG.
 */

const CSS = `
*,*::before,*::after{box-sizing:border-box}
html{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",Arial,sans-serif;font-size:15px;line-height:1.4;color:#111;background:#fff}
body{margin:0}
header.site{background:#0b2e6b;color:#fff;padding:.6rem 1.25rem}
header.site a{color:#fff;font-weight:700;text-decoration:none;margin-right:1.25rem}
main{padding:0 1.25rem 2rem;max-width:82rem}
h1{font-size:1.5rem;margin:1rem 0 .25rem}
h2{font-size:1.15rem;margin:1.75rem 0 .5rem}
p{margin:0 0 .75rem}
a{color:#0b2e6b;text-underline-offset:2px}
a:focus-visible,button:focus-visible,input:focus-visible{outline:3px solid #ffdd00;box-shadow:0 0 0 5px #111}
.muted{color:#555}
.table-scroll{overflow-x:auto}
table{border-collapse:collapse;font-size:.93rem;margin:0 0 .5rem}
th,td{border:1px solid #bbb;padding:.3rem .55rem;text-align:left;vertical-align:top}
th{background:#eef2f8;white-space:nowrap}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.alerting td:first-child{border-left:5px solid #a4000f}
.badge{display:inline-block;font-size:.8rem;font-weight:700;padding:.05rem .4rem;margin:0 .25rem .15rem 0;border-radius:3px;background:#a4000f;color:#fff;white-space:nowrap}
.ok{color:#00703c;font-weight:700}
.warn{color:#a4000f;font-weight:700}
.alerts{border-left:6px solid #a4000f;background:#fbeeee;padding:.6rem 1rem;margin:1rem 0}
.alerts ul{margin:0;padding-left:1.25rem}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1.25rem;margin:.75rem 0}
dl.facts dt{font-weight:700}
dl.facts dd{margin:0}
form.range{display:flex;gap:.75rem;align-items:end;flex-wrap:wrap;margin:.75rem 0 1rem}
form.range label{display:block;font-weight:700;font-size:.85rem}
form.range input{font:inherit;padding:.25rem .4rem;border:1px solid #555}
form.range button{font:inherit;font-weight:700;padding:.3rem 1rem;background:#0b2e6b;color:#fff;border:1px solid #0b2e6b}
svg.chart{width:100%;max-width:60rem;height:auto;display:block;margin:.5rem 0}
svg.chart .bar{fill:#0b2e6b}
svg.chart .grid{stroke:#ddd;stroke-width:1}
svg.chart .baseline,svg.chart .tick{stroke:#111;stroke-width:1}
svg.chart .axis{font-size:12px;fill:#333}
code{font-size:.9em}
`;

// Ours and constant, with quotes `html` would escape: inserted as it is, so its hash is the CSP's.
const STYLE = new Html(CSS);
// The stylesheet never changes: a hash allows it, so the CSP holds no nonce and no 'unsafe-inline'.
const STYLE_HASH = createHash('sha256').update(CSS).digest('base64');

/** Sent with every day page: nothing but the inline stylesheet runs or loads. */
export const DAY_PAGES_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${STYLE_HASH}'`,
  "img-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

export type PageLinks = {
  /** Where the pages are mounted (`/days`). */
  daysPath: string;
  /** Bull Board's job page of a day's export job. */
  boardJob: (day: string) => string;
  /** Bull Board's page of the export queue. */
  boardQueue: string;
};

function layout(title: string, links: PageLinks, body: Html): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title} · boarding exporter</title>
<style>${STYLE}</style>
</head>
<body>
<header class="site"><a href="${links.daysPath}">Service days</a><a href="${links.boardQueue}">Export jobs (Bull Board)</a></header>
<main>
${body}
</main>
</body>
</html>
`.text;
}

const count = (n: number) => n.toLocaleString('en-US');
const pct = (p: number | null) => (p === null ? '–' : `${p.toFixed(1)} %`);

/** An instant as Istanbul wall-clock time, to the minute: `2020-11-21 03:41`. */
export function istanbulTime(iso: string | null): string {
  if (iso === null) return '–';
  const at = new Date(iso);
  return new Date(at.getTime() + utcOffsetMs(at, SERVICE_TIME_ZONE))
    .toISOString()
    .slice(0, 16)
    .replace('T', ' ');
}

function behindText(b: IngestBehind | null, built: boolean): string {
  if (!built) return '–';
  if (b === null) return 'not checked';
  return b.messages === 0 ? 'caught up' : `${count(b.messages)} behind`;
}

const ALERT_LABELS: Record<DayAlert['code'], string> = {
  INGEST_BEHIND: 'ingest behind',
  SILENT_FLEET: 'silent fleet',
  DELIVERY_FAILING: 'delivery failing',
};

function alertBadges(alerts: DayAlert[]): Html {
  return html`${alerts.map((a) => html`<span class="badge" title="${a.message}">${ALERT_LABELS[a.code]}</span>`)}`;
}

function versionText(s: DaySummary): string {
  const v = s.latestVersion;
  if (v === null) return '–';
  return v.state === 'DELIVERED' ? `v${v.version}` : `v${v.version} (in flight)`;
}

/** `/days`: one row per day of the range, newest first, each linking to its day page. */
export function renderDaysPage(summaries: DaySummary[], range: DayRange, links: PageLinks): string {
  const rows = summaries.map(
    (s) => html`<tr class="${s.alerts.length > 0 ? 'alerting' : ''}">
<td><a href="${links.daysPath}/${s.day}">${s.day}</a></td>
<td class="num">${count(s.taps)}</td>
<td class="num">${pct(s.matchedPercent)}</td>
<td class="num">${count(s.deadLetters)}</td>
<td class="num">${pct(s.completePercent)}</td>
<td class="num">${behindText(s.ingestBehind, s.latestVersion !== null)}</td>
<td>${versionText(s)}</td>
<td class="num">${istanbulTime(s.deliveredAt)}</td>
<td>${alertBadges(s.alerts)}</td>
</tr>`,
  );
  const alerting = summaries.filter((s) => s.alerts.length > 0).length;
  return layout(
    'Service days',
    links,
    html`<h1>Service days</h1>
<p class="muted">${range.from} to ${range.to}, newest first. Times are Europe/Istanbul. Matched % and ingest behind are those of the newest file; alerts are what the exporter flagged (the newest manifest and delivery try).</p>
<form class="range" method="get" action="${links.daysPath}">
<div><label for="from">From</label><input id="from" name="from" type="date" value="${range.from}"></div>
<div><label for="to">To</label><input id="to" name="to" type="date" value="${range.to}"></div>
<button type="submit">Show</button>
</form>
<p>${alerting === 0 ? html`<span class="ok">No alerts in this range.</span>` : html`<span class="warn">${alerting} day(s) with alerts.</span>`}</p>
<div class="table-scroll"><table>
<thead><tr><th>Day</th><th class="num">Taps</th><th class="num">Matched</th><th class="num">Dead letters</th><th class="num">Complete validators</th><th class="num">Ingest behind</th><th>Latest version</th><th class="num">Delivered at</th><th>Alerts</th></tr></thead>
<tbody>
${rows}
</tbody>
</table></div>`,
  );
}

function simpleTable(head: string[], rows: HtmlValue[][], numeric: number[] = []): Html {
  const cell = (v: HtmlValue, i: number) =>
    numeric.includes(i) ? html`<td class="num">${v}</td>` : html`<td>${v}</td>`;
  return html`<div class="table-scroll"><table><thead><tr>${head.map((h, i) => (numeric.includes(i) ? html`<th class="num">${h}</th>` : html`<th>${h}</th>`))}</tr></thead><tbody>${rows.map((r) => html`<tr>${r.map(cell)}</tr>`)}</tbody></table></div>`;
}

const firstOf = (listed: number, total: number) =>
  total > listed ? ` (first ${listed} of ${count(total)})` : '';

/** `/days/D`: the chart of the day's taps, its dead letters, validators, versions and tries. */
export function renderDayPage(d: DayInspection, links: PageLinks): string {
  const { summary: s, report: r } = d;
  const c = r.completeness;
  const reasons = Object.entries(r.deadLetters.byReason);
  const body = html`<p><a href="${links.daysPath}">← All days</a></p>
<h1>Service day ${r.day}</h1>
<p><a href="${links.boardJob(r.day)}">This day's export job in Bull Board</a></p>
${
  s.alerts.length > 0 &&
  html`<div class="alerts" role="alert"><strong>Alerts</strong><ul>${s.alerts.map((a) => html`<li>${ALERT_LABELS[a.code]}: ${a.message}</li>`)}</ul></div>`
}
<dl class="facts">
<dt>Taps stored</dt><dd>${count(r.taps.stored)} (${count(r.taps.accepted)} accepted, ${count(r.taps.rejected)} rejected)</dd>
<dt>Matched at ingest</dt><dd>${count(r.taps.matchedAtIngest)} (${pct(r.taps.stored === 0 ? null : Math.round((r.taps.matchedAtIngest / r.taps.stored) * 1000) / 10)})</dd>
<dt>Matched in the newest file</dt><dd>${pct(s.matchedPercent)}</dd>
<dt>Duplicates dropped</dt><dd>${count(r.duplicates)}</dd>
<dt>Dead letters</dt><dd>${count(r.deadLetters.total)}</dd>
<dt>Validators</dt><dd>${count(c.validatorsSeen)} seen, ${count(c.validatorsComplete)} complete (${pct(s.completePercent)}), ${count(c.validatorsWithGaps)} with gaps, ${count(c.validatorsAwaitingUpload)} not yet uploaded past the day</dd>
<dt>Silent validators</dt><dd>${d.silent === null ? '– (no file built yet)' : `${count(d.silent.count)} of ${count(d.silent.expected)} seen in the week before (as of v${d.silent.version})`}</dd>
<dt>Ingest behind</dt><dd>${behindText(s.ingestBehind, s.latestVersion !== null)}${s.ingestBehind?.oldestUnreadAt ? `, oldest unread ${istanbulTime(s.ingestBehind.oldestUnreadAt)}` : ''}</dd>
<dt>Latest version</dt><dd>${versionText(s)}</dd>
<dt>Delivered at</dt><dd>${istanbulTime(s.deliveredAt)}</dd>
</dl>
<h2>Taps per ${d.tapsPerInterval.intervalMinutes} minutes</h2>
${barChartSvg(d.tapsPerInterval.counts, {
  title: `Taps stored per ${d.tapsPerInterval.intervalMinutes} minutes on ${r.day} (Europe/Istanbul)`,
  intervalMinutes: d.tapsPerInterval.intervalMinutes,
})}
<h2>Dead letters by reason</h2>
${
  reasons.length === 0
    ? html`<p class="muted">None.</p>`
    : simpleTable(
        ['Reason', 'Count'],
        reasons.map(([reason, n]) => [html`<code>${reason}</code>`, count(n)]),
        [1],
      )
}
<h2>Validators with gaps${firstOf(c.gaps.length, c.validatorsWithGaps)}</h2>
${
  c.gaps.length === 0
    ? html`<p class="muted">None.</p>`
    : simpleTable(
        ['Validator', 'Missing seq'],
        c.gaps.map((g) => [
          html`<code>${g.validatorId}</code>`,
          g.missing.map(([a, b]) => (a === b ? `${a}` : `${a}–${b}`)).join(', '),
        ]),
      )
}
${
  c.awaitingUpload.length > 0 &&
  html`<p><strong>Not yet uploaded past the day${firstOf(c.awaitingUpload.length, c.validatorsAwaitingUpload)}:</strong> ${c.awaitingUpload.join(', ')}</p>`
}
<h2>Silent validators${d.silent ? firstOf(d.silent.listed.length, d.silent.count) : ''}</h2>
${
  d.silent === null || d.silent.count === 0
    ? html`<p class="muted">${d.silent === null ? 'Judged when the file is built: no version yet.' : 'None.'}</p>`
    : html`<p>${d.silent.listed.join(', ')}</p>`
}
<h2>Versions</h2>
${
  r.versions.length === 0
    ? html`<p class="muted">None delivered yet.</p>`
    : simpleTable(
        ['Version', 'File', 'Rows', 'sha256', 'Supersedes', 'Delivered at'],
        r.versions.map((v) => [
          `v${v.version}`,
          html`<code>${v.file}</code>`,
          count(v.rows),
          html`<code title="${v.sha256}">${v.sha256.slice(0, 16)}</code>`,
          v.supersedes === null ? '–' : `v${v.supersedes}`,
          v.deliveredAt === null ? 'in flight (unconfirmed)' : istanbulTime(v.deliveredAt),
        ]),
        [2],
      )
}
<h2>Delivery attempts (newest first)</h2>
${
  r.attempts.length === 0
    ? html`<p class="muted">None recorded.</p>`
    : simpleTable(
        ['Finished', 'Version', 'Try', 'Outcome', 'Trigger', 'Error'],
        r.attempts.map((a) => [
          a.finishedAt === null ? 'in flight' : istanbulTime(a.finishedAt),
          `v${a.version}`,
          a.attempt,
          a.outcome === 'FAILED' ? html`<span class="warn">FAILED</span>` : a.outcome,
          a.trigger,
          a.error === null ? '' : `${a.errorCode ?? ''} ${a.error}`.trim(),
        ]),
        [2],
      )
}`;
  return layout(`Day ${r.day}`, links, body);
}

/** A short error page (bad day, bad range, the database away). */
export function renderErrorPage(title: string, message: string, links: PageLinks): string {
  return layout(
    title,
    links,
    html`<h1>${title}</h1><p>${message}</p><p><a href="${links.daysPath}">← All days</a></p>`,
  );
}
