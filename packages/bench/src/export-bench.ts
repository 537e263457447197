import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { environmentWith } from '@boarding/config/env';
import { DAY_QUERY } from '@boarding/export/build-day-file';
import { createTestDatabase, type TestDatabase } from '@boarding/testing/database';
import { createTestSftpDir, type TestSftpDir } from '@boarding/testing/sftp';
import { runUndos } from './cleanups';
import { type ExportChildResult, exportFigures, parseExportChildResult } from './export-figures';
import type { Bench, BenchContext } from './harness';
import { finishLoad, type LoadChildResult, parseLoadChildResult } from './load-simulated-day';
import { measureCopyOut, withDayLiteral } from './measure-copy-out';
import { startTsChild } from './ts-child';

/** SPEC §1: benchmark at 2 M taps/day (≈1.1 M of them by matched cards: the file's rows). */
const DEFAULT_TAPS = 2_000_000;
/** ≈10,000 rows in the file: the small end of "peak RSS flat from 10 k to 2 M rows". */
const SMALL_TAPS = 18_000;
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

/** `exportDay` in its own process (export-child.ts), delivering to the day's private remote dir. */
async function exportInChild(ctx: BenchContext, day: SimulatedDay): Promise<ExportChildResult> {
  const env = environmentWith({
    DATABASE_URL: day.database.url,
    EXPORT_DIR: day.dir,
    SFTP_REMOTE_DIR: day.remote.remoteDir,
    // The figures are of the default delivery: a plain CSV. One try: a failure fails the bench
    // instead of hiding a backoff wait inside the delivery time.
    EXPORT_GZIP: 'false',
    DELIVERY_ATTEMPTS: '1',
  });
  ctx.progress(`export: building and delivering ${count(day.expectedRows)} rows in a child process`);
  const result = parseExportChildResult(await startTsChild(ctx, 'export-child.ts', [DAY], env).done);
  if (result.outcome !== 'DELIVERED') throw new Error(`the export ended ${result.outcome}, not DELIVERED`);
  // The file holds exactly the taps the simulator knows were made by matched cards.
  if (result.rows !== day.expectedRows) {
    throw new Error(`the export wrote ${result.rows} rows, the simulator expects ${day.expectedRows}`);
  }
  ctx.progress(
    `export: ${count(result.rows)} rows, ${(result.bytes / 1e6).toFixed(1)} MB: ` +
      `build ${result.buildSeconds.toFixed(2)} s, deliver ${result.deliverSeconds.toFixed(2)} s, ` +
      `peak RSS ${(result.maxRssKiB / 1024).toFixed(0)} MiB, ${(result.buildMaxRssKiB / 1024).toFixed(0)} MiB ` +
      `by the end of the build (V8 heap ≤ ${result.peakHeapMiB.toFixed(0)} MiB, ` +
      `buffers ≤ ${result.peakExternalMiB.toFixed(0)} MiB)`,
  );
  return result;
}

/**
 * `exportDay` of a simulated 2 M-tap day (build from PostgreSQL, decrypt, CSV, deliver by SFTP
 * to the local server), as its own process, against the same run's bounds: COPY of the same
 * query to nowhere, and a raw SFTP upload of a file of the same size. The same export of a
 * ~10 k-row day first, for its peak RSS: memory should not grow with the day.
 */
export const exportBench: Bench = {
  name: 'export',
  description:
    'simulated 2 M-tap day: exportDay build + SFTP delivery vs COPY TO STDOUT and raw upload bounds; peak RSS',
  async run(ctx) {
    const taps = ctx.options.taps ?? DEFAULT_TAPS;
    const small = await withSimulatedDay(ctx, SMALL_TAPS, 'small', (day) => exportInChild(ctx, day));
    const figures = await withSimulatedDay(ctx, taps, 'large', async (day) => {
      ctx.progress('bound 1: COPY (the day query) TO STDOUT, bytes dropped');
      const copyOut = await measureCopyOut({
        pool: day.database.pool,
        query: withDayLiteral(DAY_QUERY, DAY),
        progress: ctx.progress,
      });
      const large = await exportInChild(ctx, day);
      ctx.progress('bound 2: raw SFTP upload of a file of the same size');
      const upload = await ctx.limits.sftpUpload(large.bytes);
      return exportFigures({ large, small, copyOut, upload });
    });
    for (const figure of figures) ctx.record(figure);
  },
};
