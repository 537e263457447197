import { cpus, hostname, totalmem } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import Table from 'cli-table3';
import type { Figure } from './harness';

/**
 * Values and bounds keep one decimal (rates in the thousands need no more); a value below 1
 * (seconds, small ratios of work) keeps three significant digits instead, so it never prints
 * as 0.
 */
export function roundValue(n: number): number {
  if (n === 0 || Math.abs(n) >= 1) return Math.round(n * 10) / 10;
  return Number(n.toPrecision(3));
}

/** Ratios keep three significant digits: 0.618, 1.02. */
export function roundRatio(n: number): number {
  return Number(n.toPrecision(3));
}

/**
 * One figure as one JSON line, fields in the order of SPEC §6 and spaced like it:
 * `{"bench": "limits", "figure": "pg-copy", "value": 123.4, "unit": "rows/s"}`.
 * `bound` and `ratio` appear only when the figure has a bound.
 */
export function formatJsonLine(figure: Figure): string {
  const fields: [string, string | number][] = [
    ['bench', figure.bench],
    ['figure', figure.figure],
    ['value', roundValue(figure.value)],
    ['unit', figure.unit],
  ];
  if (figure.bound !== undefined) fields.push(['bound', roundValue(figure.bound)]);
  if (figure.ratio !== undefined) fields.push(['ratio', roundRatio(figure.ratio)]);
  return `{${fields.map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(', ')}}`;
}

/** `305,900.7` for the table; a value below 1 keeps its three significant digits. */
function grouped(n: number): string {
  const rounded = roundValue(n);
  if (Math.abs(rounded) < 1 && rounded !== 0) return String(rounded);
  return rounded.toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
}

export function renderTable(figures: readonly Figure[]): string {
  const table = new Table({
    head: ['bench', 'figure', 'value', 'unit', 'bound', 'ratio'],
    colAligns: ['left', 'left', 'right', 'left', 'right', 'right'],
    style: { head: [], border: [] },
  });
  for (const f of figures) {
    table.push([
      f.bench,
      f.figure,
      grouped(f.value),
      f.unit,
      f.bound === undefined ? '-' : grouped(f.bound),
      f.ratio === undefined ? '-' : String(roundRatio(f.ratio)),
    ]);
  }
  return table.toString();
}

/** The share of CPU time all cores spent idle over `ms`: how quiet the machine is right now. */
export async function sampleIdle(ms = 1000): Promise<number> {
  const total = () =>
    cpus().reduce(
      (acc, c) => {
        const t = c.times;
        return { idle: acc.idle + t.idle, all: acc.all + t.idle + t.user + t.nice + t.sys + t.irq };
      },
      { idle: 0, all: 0 },
    );
  const before = total();
  await sleep(ms);
  const after = total();
  const all = after.all - before.all;
  return all > 0 ? (after.idle - before.idle) / all : 1;
}

/**
 * What the figures were measured on: they mean little without it. The idle share is there
 * because anything else busy on a 2-core machine shows up in every figure (the load average
 * lags by a minute and would blame the previous run).
 */
export function machineHeader(idle: number, now: Date = new Date()): string {
  const cores = cpus();
  const model = cores[0]?.model.trim() ?? 'unknown cpu';
  const gib = (totalmem() / 1024 ** 3).toFixed(1);
  return `boarding-bench ${now.toISOString()} · host ${hostname()} · ${cores.length} cpus (${model}) · ${gib} GiB · node ${process.version} · cpu ${Math.round(idle * 100)} % idle before start`;
}
