import { type Html, html } from '@boarding/ops-http/html';

export type BarChartOptions = {
  /** What the chart shows, for screen readers (<title>) and as its accessible name. */
  title: string;
  /** Minutes per bar, from 00:00: the x axis is labelled every 3 hours. */
  intervalMinutes: number;
  width?: number;
  height?: number;
};

const MARGIN = { top: 12, right: 24, bottom: 28, left: 56 };

/**
 * Bars of counts over one day as inline SVG: no script, no external asset, nothing for the CSP
 * to allow. The y axis runs from 0 to a rounded maximum with a grid line at every quarter; each bar carries a
 * <title> (the interval and its count) a pointer shows as a tooltip.
 */
export function barChartSvg(counts: readonly number[], options: BarChartOptions): Html {
  const width = options.width ?? 960;
  const height = options.height ?? 240;
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const top = niceCeiling(Math.max(0, ...counts));
  const step = counts.length === 0 ? plotW : plotW / counts.length;
  const y = (n: number) => MARGIN.top + plotH - (top === 0 ? 0 : (n / top) * plotH);
  const grid = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const value = Math.round(top * f);
    const gy = round(y(value));
    return html`<line class="grid" x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${gy}" y2="${gy}"/><text class="axis" x="${MARGIN.left - 6}" y="${gy + 4}" text-anchor="end">${value.toLocaleString('en-US')}</text>`;
  });
  const bars = counts.map((n, i) => {
    if (n === 0) return null;
    const x = round(MARGIN.left + i * step + step * 0.1);
    const by = round(y(n));
    return html`<rect class="bar" x="${x}" y="${by}" width="${round(step * 0.8)}" height="${round(MARGIN.top + plotH - by)}"><title>${clock(i * options.intervalMinutes)}–${clock((i + 1) * options.intervalMinutes)}: ${n.toLocaleString('en-US')}</title></rect>`;
  });
  const perHour = 60 / options.intervalMinutes;
  const ticks = [];
  for (let i = 0; i <= counts.length; i += 3 * perHour) {
    const x = round(MARGIN.left + i * step);
    ticks.push(
      html`<line class="tick" x1="${x}" x2="${x}" y1="${MARGIN.top + plotH}" y2="${MARGIN.top + plotH + 5}"/><text class="axis" x="${x}" y="${height - 8}" text-anchor="middle">${clock(i * options.intervalMinutes)}</text>`,
    );
  }
  return html`<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="chart-title"><title id="chart-title">${options.title}</title>${grid}${bars}<line class="baseline" x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${MARGIN.top + plotH}" y2="${MARGIN.top + plotH}"/>${ticks}</svg>`;
}

/**
 * The top of the y axis: four grid steps of 1, 2 or 5 × 10^k (at least 1) reaching n, so every
 * grid line sits on a whole, round number. 0 stays 0.
 */
export function niceCeiling(n: number): number {
  if (n <= 0) return 0;
  const quarter = Math.max(1, n / 4);
  const magnitude = 10 ** Math.floor(Math.log10(quarter));
  const step = [1, 2, 5, 10].map((f) => f * magnitude).find((s) => s >= quarter) ?? 10 * magnitude;
  return 4 * step;
}

/** Minutes from 00:00 as HH:MM (24:00 at the end of the day). */
export function clock(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

const round = (n: number) => Math.round(n * 10) / 10;
