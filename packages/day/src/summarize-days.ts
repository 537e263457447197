import { addDays, isCalendarDay } from '@boarding/contracts/time';
import { withTransaction } from '@boarding/db/transaction';
import type { IngestBehind } from '@boarding/export/manifest';
import type { Pool, PoolClient } from 'pg';

/** The exporter's EXPORT_SILENT_ALERT_RATIO default (SPEC §5): more than this share silent alerts. */
export const DEFAULT_SILENT_ALERT_RATIO = 0.2;
/** How many days `/days` and `boarding days list` show by default. */
export const DEFAULT_DAYS = 30;
/** The longest range one call summarizes: a table, not a bulk export. */
export const MAX_SUMMARY_DAYS = 366;

/**
 * What the exporter flagged for a day (SPEC §5), read back from what it stored, so every
 * process and every later reader agree: the manifest of the day's newest version (ingest
 * behind, silent fleet) and the ledger (the newest try failed).
 */
export type DayAlertCode = 'INGEST_BEHIND' | 'SILENT_FLEET' | 'DELIVERY_FAILING';
export type DayAlert = { code: DayAlertCode; message: string };

/** One line of `boarding days list` and of the `/days` page. */
export type DaySummary = {
  day: string;
  /** Taps stored for the day (validator_days, as the ingest keeps it). */
  taps: number;
  /** Share of the taps in the newest version's file (manifest rows ÷ taps stored), 0–100; null: no file yet. */
  matchedPercent: number | null;
  deadLetters: number;
  duplicates: number;
  validatorsSeen: number;
  validatorsComplete: number;
  /** validatorsComplete ÷ validatorsSeen, 0–100; null when none was seen. */
  completePercent: number | null;
  /** The ingest's lag when the newest version was built; null: no version, or the lag was not checked. */
  ingestBehind: IngestBehind | null;
  /** The newest version ever sent (DELIVERED, or IN_FLIGHT: its upload never confirmed). */
  latestVersion: { version: number; state: 'DELIVERED' | 'IN_FLIGHT'; rows: number } | null;
  /** When the newest DELIVERED version was confirmed. */
  deliveredAt: string | null;
  /** Delivery tries of the day that FAILED, over all versions. */
  failedAttempts: number;
  alerts: DayAlert[];
};

/** A range that cannot be summarized: not dates, reversed, or too long. */
export class DayRangeError extends Error {
  readonly code = 'DAY_RANGE_INVALID';
  readonly retryable = false;
}

export type DayRange = { from: string; to: string };

/** The days of [from, to], oldest first, after checking the range. */
export function daysOfRange({ from, to }: DayRange): string[] {
  for (const [what, day] of [
    ['from', from],
    ['to', to],
  ] as const) {
    if (!isCalendarDay(day)) {
      throw new DayRangeError(
        `${what} must be a date as YYYY-MM-DD, got ${JSON.stringify(day.slice(0, 40))}`,
      );
    }
  }
  if (from > to) throw new DayRangeError(`from (${from}) is after to (${to})`);
  const days: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) {
    days.push(d);
    if (days.length > MAX_SUMMARY_DAYS) {
      throw new DayRangeError(`a range is at most ${MAX_SUMMARY_DAYS} days long`);
    }
  }
  return days;
}

/** The last `days` service days ending with `yesterday` (the day before `today`): the default range. */
export function lastDays(today: string, days = DEFAULT_DAYS): DayRange {
  return { from: addDays(today, -days), to: addDays(today, -1) };
}

/**
 * The range asked for, with what is missing filled in the one way `/days` and `boarding days list`
 * both use: nothing → the 30 days before today; `to` alone → the 30 days ending there; `from`
 * alone → from there to yesterday. Not checked here (daysOfRange does).
 */
export function rangeAsked(today: string, asked: { from?: string; to?: string }): DayRange {
  const fallback = lastDays(today);
  const to = asked.to ?? fallback.to;
  const from = asked.from ?? (asked.to === undefined ? fallback.from : addDays(to, -(DEFAULT_DAYS - 1)));
  return { from, to };
}

type Row<T> = T & { day: string };

/**
 * The summary of every day of [from, to], newest first, days with nothing stored included (as
 * zeros). A fixed handful of grouped queries over the range, never one `describeDay` per day:
 * taps and completeness come from validator_days (thousands of rows a day, not millions of
 * taps), the match share and the ingest lag from the newest manifest, so 30 days cost about what
 * one day does. All read in one REPEATABLE READ snapshot, so the columns agree with each other.
 */
export async function summarizeDays(
  pool: Pool,
  range: DayRange,
  options: { silentAlertRatio?: number } = {},
): Promise<DaySummary[]> {
  const days = daysOfRange(range);
  const ratio = options.silentAlertRatio ?? DEFAULT_SILENT_ALERT_RATIO;
  const read = await withTransaction(
    pool,
    (client) => readRange(client, range),
    'begin isolation level repeatable read read only',
  );
  const byDay = <T extends { day: string }>(rows: T[]) => new Map(rows.map((r) => [r.day, r]));
  const validators = byDay(read.validators);
  const letters = byDay(read.letters);
  const dups = byDay(read.duplicates);
  const versions = byDay(read.versions);
  const attempts = byDay(read.attempts);
  return days.reverse().map((day) => {
    const v = validators.get(day);
    const version = versions.get(day);
    const attempt = attempts.get(day);
    const taps = Number(v?.taps ?? 0);
    const seen = v?.seen ?? 0;
    const complete = v?.complete ?? 0;
    const stats = version?.stats ?? null;
    // jsonb_strip_nulls dropped a null oldestUnreadAt: put it back.
    const ingestBehind = stats?.ingestBehind
      ? { messages: stats.ingestBehind.messages, oldestUnreadAt: stats.ingestBehind.oldestUnreadAt ?? null }
      : null;
    const alerts: DayAlert[] = [];
    if (ingestBehind !== null && ingestBehind.messages > 0) {
      alerts.push({
        code: 'INGEST_BEHIND',
        message: `v${version?.version} built while the ingest was ${ingestBehind.messages} message(s) behind`,
      });
    }
    const silent = stats?.silent ?? 0;
    const expected = stats?.expected ?? 0;
    if (expected > 0 && silent / expected > ratio) {
      alerts.push({
        code: 'SILENT_FLEET',
        message: `${silent} of ${expected} validators of the week before silent (over ${Math.round(ratio * 100)} %)`,
      });
    }
    if (attempt?.last_outcome === 'FAILED') {
      alerts.push({ code: 'DELIVERY_FAILING', message: 'the newest delivery try failed' });
    }
    return {
      day,
      taps,
      matchedPercent:
        stats?.matched === undefined || stats.tapsStored === undefined || stats.tapsStored === 0
          ? null
          : percent(stats.matched, stats.tapsStored),
      deadLetters: letters.get(day)?.n ?? 0,
      duplicates: dups.get(day)?.n ?? 0,
      validatorsSeen: seen,
      validatorsComplete: complete,
      completePercent: seen === 0 ? null : percent(complete, seen),
      ingestBehind,
      latestVersion: version ? { version: version.version, state: version.state, rows: version.rows } : null,
      deliveredAt: version?.delivered_at?.toISOString() ?? null,
      failedAttempts: attempt?.failed ?? 0,
      alerts,
    };
  });
}

/** One decimal, never rounded up to 100 while something is missing. */
function percent(part: number, whole: number): number {
  const p = Math.round((part / whole) * 1000) / 10;
  return p === 100 && part < whole ? 99.9 : p;
}

/** The manifest stats a summary needs, each absent when the manifest lacks it. */
type VersionStats = {
  matched?: number;
  tapsStored?: number;
  ingestBehind?: IngestBehind | null;
  silent?: number;
  expected?: number;
};

async function readRange(client: PoolClient, { from, to }: DayRange) {
  const args = [from, to];
  // Completeness by SPEC §5, as dayCompleteness has it, counted per day instead of listed.
  const validators = await client.query<Row<{ seen: number; taps: string; complete: number }>>(
    `select to_char(d.service_day, 'YYYY-MM-DD') as day,
            count(*)::int as seen,
            sum(d.tap_count)::text as taps,
            count(*) filter (
              where d.tap_count = d.max_seq - d.min_seq + 1
                and (exists (select 1 from validator_heartbeats h
                             where h.validator_id = d.validator_id and h.last_seq >= d.max_seq
                               and h.at >= (d.service_day + 1)::timestamp at time zone 'Europe/Istanbul')
                     or exists (select 1 from validator_days l
                                where l.validator_id = d.validator_id and l.service_day > d.service_day)))::int
              as complete
     from validator_days d where d.service_day between $1::date and $2::date
     group by d.service_day`,
    args,
  );
  const letters = await client.query<Row<{ n: number }>>(
    `select to_char(service_day, 'YYYY-MM-DD') as day, count(*)::int as n from dead_letters
     where service_day between $1::date and $2::date group by service_day`,
    args,
  );
  const duplicates = await client.query<Row<{ n: number }>>(
    `select to_char(service_day, 'YYYY-MM-DD') as day, count(*)::int as n from duplicate_taps
     where service_day between $1::date and $2::date group by service_day`,
    args,
  );
  // The newest version of each day, its manifest's stats picked out in SQL (a manifest lists every
  // validator with gaps: only numbers travel), and when the newest DELIVERED one was confirmed.
  const versions = await client.query<
    Row<{
      version: number;
      state: 'DELIVERED' | 'IN_FLIGHT';
      rows: number;
      delivered_at: Date | null;
      stats: VersionStats | null;
    }>
  >(
    `select distinct on (v.service_day)
            to_char(v.service_day, 'YYYY-MM-DD') as day, v.version, v.state, v.rows,
            (select max(x.delivered_at) from export_versions x
             where x.service_day = v.service_day and x.state = 'DELIVERED') as delivered_at,
            case when m.s is null then null else jsonb_strip_nulls(jsonb_build_object(
              'matched', m.s->'matched',
              'tapsStored', m.s->'tapsStored',
              'ingestBehind', m.s->'ingestBehind',
              'silent', case when jsonb_typeof(m.s->'validatorsSilent') = 'array'
                             then jsonb_array_length(m.s->'validatorsSilent') end,
              'expected', m.s->'validatorsExpected')) end as stats
     from export_versions v
     cross join lateral (select (v.manifest_json::jsonb)->'stats' as s) m
     where v.service_day between $1::date and $2::date
     order by v.service_day, v.version desc`,
    args,
  );
  const attempts = await client.query<Row<{ failed: number; last_outcome: string | null }>>(
    `select to_char(service_day, 'YYYY-MM-DD') as day,
            count(*) filter (where outcome = 'FAILED')::int as failed,
            (array_agg(outcome order by id desc) filter (where outcome <> 'IN_FLIGHT'))[1] as last_outcome
     from delivery_attempts where service_day between $1::date and $2::date
     group by service_day`,
    args,
  );
  return {
    validators: validators.rows,
    letters: letters.rows,
    duplicates: duplicates.rows,
    versions: versions.rows.map((r) => ({ ...r, stats: r.stats ?? null })),
    attempts: attempts.rows,
  };
}
