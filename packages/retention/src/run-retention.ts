import { addDays, serviceDayOf } from '@boarding/contracts/time';
import type { Pool, PoolClient } from 'pg';
import { removeDeliveredCopies } from './delivered-copies';
import type { RetentionSettings } from './settings';

/**
 * SPEC §11: delete the personal data of taps once its purpose is over, and record the run with
 * counts per kind (never values).
 *
 * What goes, by service day older than RETENTION_DAYS: stored taps (`boardings`: whole day
 * partitions dropped, rows deleted only from a partition that also holds younger days), their
 * identity rows (`tap_keys`: card number and instant), duplicates, dead letters and the heartbeat
 * log (no personal data, but it accounts for the same Kafka offsets and grows as fast as the
 * taps). Dead letters older than DEAD_LETTER_RAW_DAYS lose their raw bytes; the record stays.
 * Local copies of day files older than EXPORT_KEEP_DAYS are deleted from the export directory.
 *
 * What stays: the registry and its history (the legal record of consent), the delivery ledger,
 * `validator_days` and `validator_heartbeats` (per-validator seq ranges and counts, no card), the
 * nightly-run and retention-run records.
 */

export type RetentionCounts = {
  /** Stored taps deleted (rows of `boardings`). */
  taps: number;
  /** Day partitions of `boardings` dropped whole. */
  dayPartitions: number;
  /** Identity rows of those taps (`tap_keys`: card number and instant of each seq). */
  tapKeys: number;
  duplicates: number;
  deadLetters: number;
  /** Dead letters (younger than RETENTION_DAYS) whose raw value and key were cleared. */
  deadLetterRaw: number;
  /** Rows of the heartbeat log. */
  heartbeats: number;
  /** Local copies (day files and manifests) deleted from the export directory. */
  files: number;
  fileBytes: number;
};

export type RetentionCutoffs = {
  /** Taps, tap keys, duplicates, dead letters and heartbeats of service days before this go. */
  tapsBefore: string;
  /** Dead letters of service days before this lose their raw bytes. */
  deadLetterRawBefore: string;
  /** Local copies of service days before this go. */
  filesBefore: string;
};

export type RetentionReport = {
  runId: number;
  dryRun: boolean;
  cutoffs: RetentionCutoffs;
  counts: RetentionCounts;
};

export type RetentionProgress = { step: RetentionStep; counts: RetentionCounts };
export type RetentionStep = 'taps' | 'duplicates' | 'dead-letters' | 'heartbeats' | 'files';

export type RetentionContext = {
  pool: Pool;
  /** EXPORT_DIR: where the export keeps its local copies. */
  exportDir: string;
  settings: RetentionSettings;
  /** The clock: "today" is its Europe/Istanbul date. */
  now: () => Date;
  /** Count what would be deleted, delete nothing (the run is recorded as a dry run). */
  dryRun: boolean;
  /** Who ran it, for the run record. */
  source: 'cli' | 'job';
  /** After each step, with the counts so far. */
  onProgress?: (progress: RetentionProgress) => void;
};

/** Another retention run holds the lock: nothing was done; try again later. */
export class RetentionBusyError extends Error {
  readonly code = 'RETENTION_BUSY';
  readonly retryable = true;
  constructor() {
    super('another retention run is in progress');
    this.name = 'RetentionBusyError';
  }
}

/** The service days before which each kind goes, as seen at `now`. */
export function retentionCutoffs(now: Date, settings: RetentionSettings): RetentionCutoffs {
  const today = serviceDayOf(now.getTime());
  return {
    tapsBefore: addDays(today, -settings.retentionDays),
    deadLetterRawBefore: addDays(today, -settings.deadLetterRawDays),
    filesBefore: addDays(today, -settings.exportKeepDays),
  };
}

const emptyCounts = (): RetentionCounts => ({
  taps: 0,
  dayPartitions: 0,
  tapKeys: 0,
  duplicates: 0,
  deadLetters: 0,
  deadLetterRaw: 0,
  heartbeats: 0,
  files: 0,
  fileBytes: 0,
});

// One retention run at a time across processes (the CLI beside the exporter's job, two exporters):
// two runs would race to detach the same partition.
const LOCK_KEY = "hashtext('boarding_retention')";

/** Run retention once (see the module comment). Returns the counts recorded in `retention_runs`. */
export async function runRetention(ctx: RetentionContext): Promise<RetentionReport> {
  const cutoffs = retentionCutoffs(ctx.now(), ctx.settings);
  const counts = emptyCounts();
  const client = await ctx.pool.connect();
  let locked = false;
  try {
    if (!ctx.dryRun) {
      const { rows } = await client.query<{ ok: boolean }>(`select pg_try_advisory_lock(${LOCK_KEY}) as ok`);
      locked = rows[0]?.ok === true;
      if (!locked) throw new RetentionBusyError();
    }
    const run = await client.query<{ id: number }>(
      `insert into retention_runs (source, dry_run, outcome, taps_before, dead_letter_raw_before, files_before)
       values ($1, $2, 'RUNNING', $3, $4, $5) returning id`,
      [ctx.source, ctx.dryRun, cutoffs.tapsBefore, cutoffs.deadLetterRawBefore, cutoffs.filesBefore],
    );
    const runId = Number(run.rows[0]?.id);
    const progress = (step: RetentionStep) => ctx.onProgress?.({ step, counts: { ...counts } });
    try {
      await removeTaps(client, cutoffs.tapsBefore, ctx.dryRun, counts);
      progress('taps');
      counts.duplicates = await removeByDay(client, 'duplicate_taps', cutoffs.tapsBefore, ctx.dryRun);
      progress('duplicates');
      counts.deadLetters = await removeByDay(client, 'dead_letters', cutoffs.tapsBefore, ctx.dryRun);
      counts.deadLetterRaw = await clearDeadLetterRaw(client, cutoffs, ctx.dryRun);
      progress('dead-letters');
      counts.heartbeats = await removeByDay(client, 'heartbeat_log', cutoffs.tapsBefore, ctx.dryRun);
      progress('heartbeats');
      const copies = await removeDeliveredCopies(ctx.exportDir, cutoffs.filesBefore, ctx.dryRun);
      counts.files = copies.files;
      counts.fileBytes = copies.bytes;
      progress('files');
    } catch (err) {
      const e = err as { code?: unknown; message?: unknown };
      const error = [
        typeof e.code === 'string' ? e.code : null,
        typeof e.message === 'string' ? e.message : null,
      ]
        .filter((p) => p !== null)
        .join(': ')
        .slice(0, 500);
      await client
        .query(
          `update retention_runs set outcome = 'FAILED', finished_at = now(), counts = $2, error = $3 where id = $1`,
          [runId, JSON.stringify(counts), error || 'unknown error'],
        )
        .catch(() => undefined);
      throw err;
    }
    await client.query(
      `update retention_runs set outcome = 'COMPLETED', finished_at = now(), counts = $2 where id = $1`,
      [runId, JSON.stringify(counts)],
    );
    return { runId, dryRun: ctx.dryRun, cutoffs, counts };
  } finally {
    if (locked) await client.query(`select pg_advisory_unlock(${LOCK_KEY})`).catch(() => undefined);
    client.release();
  }
}

type DayTable = {
  name: string;
  /** Attached to boardings (false: detached by a run that stopped before dropping it). */
  attached: boolean;
  detachPending: boolean;
  /** The partition's range [from, to), when it is a plain date range. */
  from: string | null;
  to: string | null;
};

const BOUND = /^FOR VALUES FROM \('(\d{4}-\d{2}-\d{2})'\) TO \('(\d{4}-\d{2}-\d{2})'\)$/;

/** The partitions of boardings, and day tables a stopped run detached but had not dropped yet. */
async function dayTables(client: PoolClient): Promise<DayTable[]> {
  const attached = await client.query<{ name: string; bound: string; pending: boolean }>(
    `select c.relname as name, pg_get_expr(c.relpartbound, c.oid) as bound, i.inhdetachpending as pending
     from pg_inherits i join pg_class c on c.oid = i.inhrelid
     where i.inhparent = 'boardings'::regclass order by c.relname`,
  );
  // Named as ensure_boardings_partition names them, in the schema boardings lives in, partition of
  // nothing: only a retention run detaches a day partition.
  const detached = await client.query<{ name: string }>(
    `select c.relname as name from pg_class c
     where c.relnamespace = (select relnamespace from pg_class where oid = 'boardings'::regclass)
       and c.relkind = 'r' and not c.relispartition and c.relname ~ '^boardings_[0-9]{8}$'
     order by c.relname`,
  );
  const tables: DayTable[] = attached.rows.map((r) => {
    const m = BOUND.exec(r.bound);
    return {
      name: r.name,
      attached: true,
      detachPending: r.pending,
      from: m?.[1] ?? null,
      to: m?.[2] ?? null,
    };
  });
  for (const r of detached.rows) {
    const day = `${r.name.slice(10, 14)}-${r.name.slice(14, 16)}-${r.name.slice(16, 18)}`;
    tables.push({ name: r.name, attached: false, detachPending: false, from: day, to: addDays(day, 1) });
  }
  return tables;
}

/**
 * Stored taps and their tap keys. A partition entirely before the cutoff is detached
 * CONCURRENTLY (it never takes an ACCESS EXCLUSIVE lock on boardings, so the ingest's inserts and
 * the export's reads go on), then its tap keys are deleted and it is dropped in one transaction.
 * A run stopped between the two leaves a detached table (or a pending detach), finished by the
 * next run. A partition that also holds younger days loses only its older rows.
 */
// boardings.validator_id is COLLATE "C" (the export's byte order), tap_keys' is the database's: the
// join must name one collation, and it names tap_keys' so that its primary key index finds the rows.
async function removeTaps(
  client: PoolClient,
  before: string,
  dryRun: boolean,
  counts: RetentionCounts,
): Promise<void> {
  for (const t of await dayTables(client)) {
    const id = client.escapeIdentifier(t.name);
    const whole = t.to !== null && t.to <= before;
    if (whole) {
      if (dryRun) {
        counts.taps += await count(client, `select count(*) from ${id}`);
        counts.tapKeys += await count(
          client,
          `select count(*) from tap_keys k join ${id} b on k.validator_id = b.validator_id collate "default" and k.seq = b.seq`,
        );
        counts.dayPartitions++;
        continue;
      }
      if (t.attached) {
        await client.query(
          t.detachPending
            ? `alter table boardings detach partition ${id} finalize`
            : `alter table boardings detach partition ${id} concurrently`,
        );
      }
      await inTransaction(client, async () => {
        const keys = await client.query(
          `delete from tap_keys k using ${id} b where k.validator_id = b.validator_id collate "default" and k.seq = b.seq`,
        );
        counts.tapKeys += keys.rowCount ?? 0;
        counts.taps += await count(client, `select count(*) from ${id}`);
        await client.query(`drop table ${id}`);
      });
      counts.dayPartitions++;
    } else if (t.attached && (t.from === null || t.from < before)) {
      // Not a one-day partition (a range, or a default partition): row by row.
      if (dryRun) {
        counts.taps += await count(client, `select count(*) from ${id} where service_day < $1`, [before]);
        counts.tapKeys += await count(
          client,
          `select count(*) from tap_keys k join ${id} b on k.validator_id = b.validator_id collate "default" and k.seq = b.seq
           where b.service_day < $1`,
          [before],
        );
        continue;
      }
      const { rows } = await client.query<{ taps: string; keys: string }>(
        `with gone as (delete from ${id} where service_day < $1 returning validator_id, seq),
              keys as (delete from tap_keys k using gone g
                       where k.validator_id = g.validator_id collate "default" and k.seq = g.seq returning 1)
         select (select count(*) from gone) as taps, (select count(*) from keys) as keys`,
        [before],
      );
      counts.taps += Number(rows[0]?.taps ?? 0);
      counts.tapKeys += Number(rows[0]?.keys ?? 0);
    }
  }
}

type DayKeyedTable = 'duplicate_taps' | 'dead_letters' | 'heartbeat_log';

/**
 * Rows of service days before `before`, one day per transaction (the first run on a database
 * with years of data must not become one huge transaction); each table has a service_day index.
 */
async function removeByDay(
  client: PoolClient,
  table: DayKeyedTable,
  before: string,
  dryRun: boolean,
): Promise<number> {
  if (dryRun) return count(client, `select count(*) from ${table} where service_day < $1`, [before]);
  let removed = 0;
  for (;;) {
    const { rows } = await client.query<{ day: string | null }>(
      `select min(service_day)::text as day from ${table} where service_day < $1`,
      [before],
    );
    const day = rows[0]?.day;
    if (!day) return removed;
    const res = await client.query(`delete from ${table} where service_day = $1`, [day]);
    removed += res.rowCount ?? 0;
  }
}

/** The raw value and key of dead letters kept (younger than RETENTION_DAYS) but older than DEAD_LETTER_RAW_DAYS. */
async function clearDeadLetterRaw(
  client: PoolClient,
  cutoffs: RetentionCutoffs,
  dryRun: boolean,
): Promise<number> {
  // The rows RETENTION_DAYS deletes are counted there, not here (in a real run they are gone already).
  const where = `service_day >= $1 and service_day < $2 and (raw_value is not null or message_key is not null)`;
  const params = [cutoffs.tapsBefore, cutoffs.deadLetterRawBefore];
  if (dryRun) return count(client, `select count(*) from dead_letters where ${where}`, params);
  const res = await client.query(
    `update dead_letters set raw_value = null, message_key = null where ${where}`,
    params,
  );
  return res.rowCount ?? 0;
}

async function count(client: PoolClient, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await client.query<{ count: string }>(sql, params);
  return Number(rows[0]?.count ?? 0);
}

async function inTransaction(client: PoolClient, work: () => Promise<void>): Promise<void> {
  await client.query('begin');
  try {
    await work();
    await client.query('commit');
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  }
}
