import { addDays, MINUTE_MS, serviceDayStartMs } from '@boarding/contracts/time';
import { lastUsedVersion } from '@boarding/delivery/ledger';
import type { Manifest } from '@boarding/export/manifest';
import type { Pool } from 'pg';
import { type DayReport, describeDay, LISTED_VALIDATORS } from './describe-day';
import { type DaySummary, summarizeDays } from './summarize-days';

/** The width of one bar of the day's tap chart. */
export const INTERVAL_MINUTES = 10;

/** Everything the `/days/D` page shows of one day. */
export type DayInspection = {
  /** The day's line of the range summary (alerts, match share, newest version). */
  summary: DaySummary;
  /** Counts, dead letters by reason, completeness, versions and attempts (`boarding day show`). */
  report: DayReport;
  /** Taps stored per INTERVAL_MINUTES from 00:00 Istanbul; one entry per interval of the day. */
  tapsPerInterval: { intervalMinutes: number; counts: number[] };
  /**
   * SPEC §5: validators of the week before with nothing for the day (the first LISTED_VALIDATORS),
   * as the newest version's manifest states them: the exporter judges silence when it builds the
   * file. Null until a version was built.
   */
  silent: { version: number; expected: number; count: number; listed: string[] } | null;
};

/**
 * Day D as the day page shows it: its summary line, `describeDay`'s report, the taps per
 * 10 minutes (one grouped pass over the day's partition) and the silent validators of its newest
 * manifest.
 */
export async function inspectDay(
  pool: Pool,
  day: string,
  options: { silentAlertRatio?: number } = {},
): Promise<DayInspection> {
  const [summary] = await summarizeDays(pool, { from: day, to: day }, options);
  if (!summary) throw new Error(`no summary for ${day}`);
  const report = await describeDay(pool, day);
  const start = serviceDayStartMs(day);
  const intervalMs = INTERVAL_MINUTES * MINUTE_MS;
  // 144 intervals, or 138 / 150 on a day the clocks changed (before 2016).
  const intervals = Math.ceil((serviceDayStartMs(addDays(day, 1)) - start) / intervalMs);
  const { rows: buckets } = await pool.query<{ bucket: number; n: number }>(
    `select floor(extract(epoch from tapped_at - $2::timestamptz) * 1000 / $3)::int as bucket,
            count(*)::int as n
     from boardings where service_day = $1::date group by 1`,
    [day, new Date(start).toISOString(), intervalMs],
  );
  const newest = await lastUsedVersion(pool, day);
  const counts = new Array<number>(intervals).fill(0);
  for (const b of buckets) {
    const i = Math.min(Math.max(b.bucket, 0), intervals - 1);
    counts[i] = (counts[i] ?? 0) + b.n;
  }
  return {
    summary,
    report,
    tapsPerInterval: { intervalMinutes: INTERVAL_MINUTES, counts },
    silent: newest ? silentOf(newest.version, newest.manifestJson) : null,
  };
}

function silentOf(version: number, manifestJson: string): DayInspection['silent'] {
  const stats = (JSON.parse(manifestJson) as Partial<Manifest>).stats;
  // A manifest written before SPEC §5's silent fleet existed has neither field.
  if (!stats || !Array.isArray(stats.validatorsSilent)) return null;
  return {
    version,
    expected: stats.validatorsExpected ?? 0,
    count: stats.validatorsSilent.length,
    listed: stats.validatorsSilent.slice(0, LISTED_VALIDATORS),
  };
}
