import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { environmentWith } from '@boarding/config/env';
import { refreshValidatorDays } from '@boarding/db/bulk/validator-days';
import { DAY_QUERY, DAY_QUERY_SETTINGS, dayQueryFor } from '@boarding/export/build-day-file';
import { createTestDatabase, type TestDatabase } from '@boarding/testing/database';
import { createTestSftpDir, type TestSftpDir } from '@boarding/testing/sftp';
import { runUndos } from './cleanups';
import {
  type CurvePoint,
  type ExportChildResult,
  exportFigures,
  parseExportChildResult,
} from './export-figures';
import type { Bench, BenchContext } from './harness';
import { finishLoad, type LoadChildResult, parseLoadChildResult } from './load-simulated-day';
import { measureCopyOut, withDayLiteral } from './measure-copy-out';
import { startTsChild } from './ts-child';

/** SPEC §1: benchmark at 2 M taps/day (≈1.1 M of them by matched cards: the file's rows). */
const DEFAULT_TAPS = 2_000_000;
/**
 * The memory curve: the same export of days of about these many rows, "peak RSS flat from 10 k
 * to 2 M rows". Each is derived from the large day in its own database (`deriveCurveDay`), not
 * simulated and loaded again: seconds of setup instead of minutes.
 */
const CURVE: { label: string; rows: number }[] = [
  { label: '10k', rows: 10_000 },
  { label: '100k', rows: 100_000 },
  { label: '1m', rows: 1_000_000 },
  { label: '2m', rows: 2_000_000 },
];
const DAY = '2020-11-20';
const SEED = 42;

type SimulatedDay = {
  database: TestDatabase;
  remote: TestSftpDir;
  /** EXPORT_DIR of the export: the local copies of the file and manifest. */
  dir: string;
  /** Taps of matched cards in the day: the rows its file must have. */
  expectedRows: number;
};

const since = (t0: number) => (performance.now() - t0) / 1000;
const count = (n: number) => n.toLocaleString('en-US');

/**
 * Registry and taps of the day, loaded by two child processes at once (load-day-child.ts);
 * the first to fail stops the other.
 */
async function loadInChildren(
  ctx: BenchContext,
  database: TestDatabase,
  taps: number,
): Promise<LoadChildResult[]> {
  const env = environmentWith({ DATABASE_URL: database.url });
  const children = (['registry', 'taps'] as const).map((part) =>
    startTsChild(ctx, 'load-day-child.ts', [part, DAY, String(taps), String(SEED)], env),
  );
  const settled = await Promise.allSettled(
    children.map((child) =>
      child.done.then(parseLoadChildResult).catch((err: unknown) => {
        for (const other of children) other.kill();
        throw err;
      }),
    ),
  );
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
}

/**
 * A simulated day of `taps` taps in a fresh database, a private remote directory on the SFTP
 * server and a local temp directory, all removed afterwards (also on failure or Ctrl-C). The
 * setup is timed and reported on stderr, apart from the figures.
 */
async function withSimulatedDay<T>(
  ctx: BenchContext,
  taps: number,
  label: string,
  use: (day: SimulatedDay) => Promise<T>,
): Promise<T> {
  const undo: (() => Promise<void>)[] = [];
  try {
    const t0 = performance.now();
    const database = await createTestDatabase(`bench_export_${label}`);
    undo.push(ctx.cleanup(`database ${database.name}`, () => database.drop()));
    const remote = await createTestSftpDir(`bench-export-${label}`);
    undo.push(ctx.cleanup(`remote directory ${remote.remoteDir}`, () => remote.remove()));
    const dir = await mkdtemp(join(tmpdir(), `bench-export-${label}-`));
    undo.push(ctx.cleanup(`temp dir ${dir}`, () => rm(dir, { recursive: true, force: true })));

    ctx.progress(
      `${label} day: ${count(taps)} taps (seed ${SEED}), registry and taps loaded by two processes`,
    );
    const loaded = await loadInChildren(ctx, database, taps);
    const registry = loaded.find((r) => r.part === 'registry');
    const stored = loaded.find((r) => r.part === 'taps');
    if (!registry || !stored) throw new Error('a load child gave no result');
    ctx.progress('setup: validator_days, vacuum analyze');
    const finish = await finishLoad(database.pool, DAY);
    ctx.progress(
      `${label} day ready in ${since(t0).toFixed(1)} s (not part of the figures): ` +
        `registry ${registry.loadSeconds.toFixed(1)} s (${count(registry.rows)} rows) and ` +
        `taps ${stored.loadSeconds.toFixed(1)} s (${count(stored.rows)} stored) side by side after planning ` +
        `${Math.max(registry.planSeconds, stored.planSeconds).toFixed(1)} s; ` +
        `then derived ${finish.derived.toFixed(1)} s, vacuum ${finish.vacuum.toFixed(1)} s; ` +
        `${count(stored.expectedFileRows)} taps by matched cards`,
    );
    return await use({ database, remote, dir, expectedRows: stored.expectedFileRows });
  } finally {
    await runUndos(undo, ctx.progress);
  }
}

/**
 * `deliverDayExport` in its own process (export-child.ts), delivering to the day's private remote
 * dir. The file must hold exactly `expectedRows` rows.
 */
async function exportInChild(
  ctx: BenchContext,
  day: SimulatedDay,
  serviceDay: string,
  expectedRows: number,
): Promise<ExportChildResult> {
  const env = environmentWith({
    DATABASE_URL: day.database.url,
    EXPORT_DIR: day.dir,
    SFTP_REMOTE_DIR: day.remote.remoteDir,
    // The figures are of the default delivery: a plain CSV. One try: a failure fails the bench
    // instead of hiding a backoff wait inside the delivery time.
    EXPORT_GZIP: 'false',
    DELIVERY_ATTEMPTS: '1',
  });
  ctx.progress(
    `export ${serviceDay}: building and delivering ${count(expectedRows)} rows in a child process`,
  );
  const result = parseExportChildResult(await startTsChild(ctx, 'export-child.ts', [serviceDay], env).done);
  if (result.outcome !== 'DELIVERED') throw new Error(`the export ended ${result.outcome}, not DELIVERED`);
  if (result.rows !== expectedRows) {
    throw new Error(`the export wrote ${result.rows} rows, ${expectedRows} were expected`);
  }
  ctx.progress(
    `export ${serviceDay}: ${count(result.rows)} rows, ${(result.bytes / 1e6).toFixed(1)} MB: ` +
      `build ${result.buildSeconds.toFixed(2)} s, deliver ${result.deliverSeconds.toFixed(2)} s, ` +
      `peak RSS ${(result.maxRssKiB / 1024).toFixed(0)} MiB, ${(result.buildMaxRssKiB / 1024).toFixed(0)} MiB ` +
      `by the end of the build (V8 heap ≤ ${result.peakHeapMiB.toFixed(0)} MiB, ` +
      `buffers ≤ ${result.peakExternalMiB.toFixed(0)} MiB)`,
  );
  return result;
}

/** `day` + `days` days, as YYYY-MM-DD. */
function dayAfter(day: string, days: number): string {
  const t = new Date(`${day}T00:00:00Z`);
  t.setUTCDate(t.getUTCDate() + days);
  return t.toISOString().slice(0, 10);
}

/**
 * A day of about `rows` file rows made from the large day's stored taps in SQL: `shift` days
 * later (instants, Kafka stamps and service day moved together), whole validators only (their
 * sequences stay gap-free for the manifest's completeness), as many whole copies as fit and a
 * share of the validators for the rest; copies after the first get validator ids of their own
 * (`…-C2`), so every tap stays one (validator, seq). The registry is the large day's: a match
 * that ended during that day does not cover the moved taps, so the rows are counted afterwards
 * by the day query itself, which is what the export must then write.
 */
async function deriveCurveDay(
  pool: TestDatabase['pool'],
  shift: number,
  fraction: number,
): Promise<{ day: string; rows: number }> {
  const day = dayAfter(DAY, shift);
  const whole = Math.floor(fraction);
  const permille = Math.round((fraction - whole) * 1000);
  await pool.query('select ensure_boardings_partition($1::date)', [day]);
  await pool.query(
    `insert into boardings (service_day, validator_id, seq, card_no, tapped_at, mode, line_code,
       vehicle_id, stop_code, result, reject_reason, match_id, kafka_partition, kafka_offset, kafka_timestamp)
     select $2::date, case when k.n = 0 then b.validator_id else b.validator_id || '-C' || (k.n + 1) end,
       b.seq, b.card_no, b.tapped_at + make_interval(days => $3), b.mode, b.line_code, b.vehicle_id,
       b.stop_code, b.result, b.reject_reason, null, b.kafka_partition, b.kafka_offset,
       b.kafka_timestamp + make_interval(days => $3)
     from boardings b cross join generate_series(0, $4::int) k(n)
     where b.service_day = $1::date
       and (k.n < $4 or abs(hashtext(b.validator_id)) % 1000 < $5)`,
    [DAY, day, shift, whole, permille],
  );
  await refreshValidatorDays(pool, day);
  await pool.query('analyze boardings');
  const counted = await pool.query<{ rows: string }>(`select count(*) as rows from (${dayQueryFor(day)}) q`);
  return { day, rows: Number(counted.rows[0]?.rows ?? 0) };
}

/** The memory curve: each day derived, exported and timed, smallest first. */
async function exportCurve(ctx: BenchContext, large: SimulatedDay): Promise<CurvePoint[]> {
  const points: CurvePoint[] = [];
  for (const [i, point] of CURVE.entries()) {
    const t0 = performance.now();
    const derived = await deriveCurveDay(large.database.pool, i + 1, point.rows / large.expectedRows);
    ctx.progress(
      `curve ${point.label}: ${derived.day} derived in ${since(t0).toFixed(1)} s (not part of the figures), ` +
        `${count(derived.rows)} rows`,
    );
    points.push({ label: point.label, result: await exportInChild(ctx, large, derived.day, derived.rows) });
  }
  return points;
}

/**
 * `deliverDayExport` of a simulated 2 M-tap day (build from PostgreSQL, decrypt, CSV, deliver by
 * SFTP to the local server), as its own process, against the same run's bounds: COPY of the same
 * query (same session settings) to nowhere, and a raw SFTP upload of a file of the same size.
 * Then the memory curve: the same export of days of ~10 k, 100 k, 1 M and 2 M rows derived from
 * it, for their peak RSS and time: memory should not grow with the day.
 */
export const exportBench: Bench = {
  name: 'export',
  description:
    'simulated 2 M-tap day: export build + SFTP delivery vs COPY TO STDOUT and raw upload bounds; peak RSS and time at 10 k–2 M rows',
  async run(ctx) {
    const taps = ctx.options.taps ?? DEFAULT_TAPS;
    const figures = await withSimulatedDay(ctx, taps, 'large', async (day) => {
      ctx.progress('bound 1: COPY (the day query) TO STDOUT, bytes dropped');
      const copyOut = await measureCopyOut({
        pool: day.database.pool,
        query: withDayLiteral(DAY_QUERY, DAY),
        settings: DAY_QUERY_SETTINGS,
        progress: ctx.progress,
      });
      // The file holds exactly the taps the simulator knows were made by matched cards.
      const large = await exportInChild(ctx, day, DAY, day.expectedRows);
      ctx.progress('bound 2: raw SFTP upload of a file of the same size');
      const upload = await ctx.limits.sftpUpload(large.bytes);
      const curve = await exportCurve(ctx, day);
      return exportFigures({ large, curve, copyOut, upload });
    });
    for (const figure of figures) ctx.record(figure);
  },
};
