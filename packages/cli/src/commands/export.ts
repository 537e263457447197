import { resolve } from 'node:path';
import { environmentWith, IngestGroupEnv, KafkaEnv, loadEnv, SftpEnv } from '@boarding/config/env';
import { createDb } from '@boarding/db/client';
import { type DayExportResult, deliverDayExport } from '@boarding/delivery/deliver-day-export';
import { deliveredVersions, type LedgerEntry, readLedger, summarizeVersion } from '@boarding/delivery/ledger';
import { type DayExportPlan, hasNothingToDeliver, planDayExport } from '@boarding/delivery/plan-day-export';
import { sftpTransportFromEnv } from '@boarding/delivery/sftp-transport';
import { loadKeyring } from '@boarding/encryption/load-keyring';
import { ExportEnv, exportSettings } from '@boarding/export/settings';
import { createIngestBehindReader, type IngestBehindReader } from '@boarding/ingest/lag-before';
import type { Command } from 'commander';
import { MAX_RANGE_DAYS, parseDay, parseDays, UsageError, wholeNumber } from '../arguments';
import { RangeStoppedError } from '../failure';
import { emit, type GlobalOptions, table } from '../output';
import { createProgressBar } from '../progress';
import { verifyKeys } from '../verify-keys';

type RunOptions = GlobalOptions & {
  day?: string;
  from?: string;
  to?: string;
  deliver: boolean;
  dryRun?: boolean;
  out?: string;
  force?: boolean;
};
type StatusOptions = GlobalOptions & { day?: string; limit: number };

/** One day of a --from/--to run, as its summary table and its JSON show it. */
export type DayRunSummary = {
  day: string;
  outcome: DayExportResult['outcome'] | DayExportPlan['outcome'];
  version: number | null;
  supersedes: number | null;
  file: string | null;
  rows: number;
  bytes: number;
  sha256: string;
};

export function registerExport(program: Command): void {
  const exp = program
    .command('export')
    .description("the day's boarding file for the Health Ministry: build, deliver, ledger");

  exp
    .command('run')
    .description(
      'build the file of a day (or of each day from --from to --to) now and deliver it by SFTP: a new version only if the content changed since the last delivered one',
    )
    .option('--day <YYYY-MM-DD>', 'the service day (Europe/Istanbul)')
    .option(
      '--from <YYYY-MM-DD>',
      `first day of a range, with --to (both included, at most ${MAX_RANGE_DAYS} days)`,
    )
    .option('--to <YYYY-MM-DD>', 'last day of a range')
    .option('--force', 're-deliver the last delivered version when the content has not changed')
    .option('--no-deliver', 'build the file and its manifest locally only (no SFTP, no ledger)')
    .option(
      '--dry-run',
      'say what would be delivered (new version, rows, sha256) and change nothing: no file, no ledger row, no upload',
    )
    .option(
      '--out <dir>',
      'where files and manifests are written and kept (default EXPORT_DIR or .local/exports)',
    )
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
A range runs its days in order, oldest first, and stops at the first day that fails (the days
before it are done and shown; run the same range again to go on: delivered days are unchanged).
In a range, a day with no tap stored and no version ever sent is skipped (nothing to deliver).`,
    )
    .action(async (options: RunOptions) => {
      const days = parseDays(options);
      const range = options.day === undefined;
      const dryRun = options.dryRun === true;
      if (dryRun && !options.deliver) {
        throw new UsageError('--dry-run writes and delivers nothing already: drop --no-deliver');
      }
      const env = loadEnv(ExportEnv);
      const settings = exportSettings(env);
      if (options.out) settings.outDir = resolve(options.out);
      // The SFTP settings are needed (and checked) only when something is to be delivered.
      const transport = options.deliver && !dryRun ? sftpTransportFromEnv(loadEnv(SftpEnv)) : undefined;
      const keyring = loadKeyring();
      const { pool } = createDb();
      const gate = dryRun ? undefined : ingestGateFromEnv();
      const done: DayRunSummary[] = [];
      try {
        await verifyKeys(pool, keyring);
        for (const [i, day] of days.entries()) {
          const bar = options.json ? undefined : createProgressBar(`export ${day}`, { total: false });
          try {
            bar?.start(0, 0, { phase: 'building', rows: 0 });
            const onRows = (rows: number) => bar?.update({ phase: 'building', rows });
            if (dryRun) {
              const plan = await planDayExport(
                { pool, keyring, settings, onRows },
                { day, force: options.force, skipEmpty: range },
              );
              bar?.stop();
              done.push(summaryOfPlan(plan));
              if (!range) emit(options, plan, describePlan);
              continue;
            }
            if (range && (await hasNothingToDeliver(pool, day))) {
              bar?.stop();
              done.push(emptySummary(day));
              continue;
            }
            const result = await deliverDayExport(
              {
                pool,
                keyring,
                settings,
                transport,
                ingestBehind: gate?.read,
                onProgress: (e) =>
                  e.phase === 'build'
                    ? onRows(e.rows)
                    : bar?.update({ phase: `delivering (try ${e.attempt})` }),
              },
              { day, deliver: options.deliver, force: options.force, trigger: 'cli' },
            );
            bar?.stop();
            done.push(summaryOfResult(result));
            if (!range) emit(options, result, describeResult);
          } catch (err) {
            bar?.stop();
            if (!range) throw err;
            // The days done are shown before the failure (in --json only the error is printed).
            if (!options.json && done.length > 0) process.stdout.write(`${describeRange(done, dryRun)}\n`);
            throw new RangeStoppedError(day, done.length, days.slice(i + 1), err);
          }
        }
        if (range) {
          emit(options, { from: days[0], to: days.at(-1), dryRun, days: done }, (r) =>
            describeRange(r.days, dryRun),
          );
        }
      } finally {
        await gate?.close();
        await pool.end();
      }
    });

  exp
    .command('status')
    .description('the delivery ledger: every delivery attempt, newest first, and the versions delivered')
    .option('--day <YYYY-MM-DD>', 'one service day only')
    .option('--limit <n>', 'at most this many attempts', wholeNumber(1), 50)
    .option('--json', 'print { versions, attempts } as JSON')
    .action(async (options: StatusOptions) => {
      const day = options.day === undefined ? undefined : parseDay(options.day);
      if (!Number.isInteger(options.limit) || options.limit < 1)
        throw new UsageError('--limit must be a positive integer');
      const { pool } = createDb();
      try {
        const attempts = await readLedger(pool, { day, limit: options.limit });
        const versions = day === undefined ? [] : await deliveredVersions(pool, day);
        const status = {
          day: day ?? null,
          versions: versions.map(summarizeVersion),
          attempts,
        };
        emit(options, status, (s) => {
          const parts: string[] = [];
          if (s.day !== null) {
            parts.push(
              s.versions.length === 0
                ? `day ${s.day}: no version delivered yet`
                : `day ${s.day}: versions (IN_FLIGHT: sent, never confirmed; its number is used)\n${table(
                    ['version', 'state', 'file', 'rows', 'bytes', 'sha256', 'supersedes', 'delivered at'],
                    s.versions.map((v) => [
                      `v${v.version}`,
                      v.state,
                      v.file,
                      v.rows,
                      v.bytes,
                      v.sha256.slice(0, 16),
                      v.supersedes === null ? null : `v${v.supersedes}`,
                      v.deliveredAt,
                    ]),
                  )}`,
            );
          }
          parts.push(
            s.attempts.length === 0
              ? 'the delivery ledger is empty'
              : `delivery ledger (newest first)\n${ledgerTable(s.attempts)}`,
          );
          return parts.join('\n');
        });
      } finally {
        await pool.end();
      }
    });
}

/**
 * The ingest gate's reading for the manifest's stats.ingestBehind (SPEC §5) when Kafka is
 * configured: the file is built and delivered all the same, and says how far the ingest was
 * behind; a reading that fails or overruns its time limit leaves it null. KAFKA_BROKERS unset:
 * not read; set but malformed: the configuration error, not a silent "not checked".
 */
function ingestGateFromEnv(): IngestBehindReader | undefined {
  const source = environmentWith();
  if (source.KAFKA_BROKERS === undefined) return undefined;
  const env = loadEnv(KafkaEnv.extend(IngestGroupEnv.shape), source);
  return createIngestBehindReader({
    brokers: env.KAFKA_BROKERS,
    clientId: `${env.KAFKA_CLIENT_ID}-export`,
    groupId: env.INGEST_GROUP_ID,
    topic: env.KAFKA_TAPS_TOPIC,
  });
}

function ledgerTable(rows: LedgerEntry[]): string {
  return table(
    ['finished', 'day', 'version', 'try', 'outcome', 'trigger', 'sha256', 'error'],
    rows.map((r) => [
      // An IN_FLIGHT try has no end yet: it shows when it started.
      r.finishedAt === null
        ? `(started ${r.startedAt.toISOString().replace(/\.\d+Z$/, 'Z')})`
        : r.finishedAt.toISOString().replace(/\.\d+Z$/, 'Z'),
      r.serviceDay,
      `v${r.version}`,
      r.attempt,
      r.outcome,
      r.trigger,
      r.sha256.slice(0, 16),
      r.error === null ? null : `${r.errorCode ?? ''} ${r.error}`.trim().slice(0, 80),
    ]),
  );
}

function describeResult(r: DayExportResult): string {
  const m = r.manifest;
  const s = m.stats;
  const head: Record<DayExportResult['outcome'], string> = {
    DELIVERED: `day ${r.serviceDay}: delivered v${r.version}${r.supersedes === null ? '' : ` (supersedes v${r.supersedes})`} to ${r.target} in ${r.attempts} attempt(s)`,
    REDELIVERED: `day ${r.serviceDay}: re-delivered v${r.version} (--force; same bytes and manifest as before) to ${r.target} in ${r.attempts} attempt(s)`,
    UNCHANGED: `day ${r.serviceDay}: unchanged since v${r.version}: nothing delivered (--force sends v${r.version} again)`,
    BUILT: `day ${r.serviceDay}: built v${r.version}${r.supersedes === null ? '' : ` (would supersede v${r.supersedes})`}; not delivered (--no-deliver)`,
  };
  return [
    head[r.outcome],
    `file: ${m.file}: ${m.rows} rows, ${m.bytes} bytes, sha256 ${m.sha256}`,
    `local copy: ${r.filePath} (holds TC and HES in clear: keep it where only the export runs)`,
    `manifest: ${r.manifestPath}`,
    `taps stored: ${s.tapsStored} (${s.accepted} accepted, ${s.rejected} rejected); in the file (matched): ${s.matched}; unmatched: ${s.unmatched}; duplicates dropped: ${s.duplicatesDropped}; dead-lettered: ${s.deadLettered}`,
    `validators: ${s.validatorsSeen} seen, ${s.validatorsComplete} complete, ${s.validatorsWithGaps.length} with gaps, ${s.validatorsAwaitingUpload.length} not yet uploaded past the day`,
  ].join('\n');
}

function emptySummary(day: string): DayRunSummary {
  return {
    day,
    outcome: 'NOTHING_TO_DELIVER',
    version: null,
    supersedes: null,
    file: null,
    rows: 0,
    bytes: 0,
    sha256: '',
  };
}

function summaryOfResult(r: DayExportResult): DayRunSummary {
  const m = r.manifest;
  return {
    day: r.serviceDay,
    outcome: r.outcome,
    version: r.version,
    supersedes: r.supersedes,
    file: m.file,
    rows: m.rows,
    bytes: m.bytes,
    sha256: m.sha256,
  };
}

function summaryOfPlan(p: DayExportPlan): DayRunSummary {
  return {
    day: p.serviceDay,
    outcome: p.outcome,
    version: p.version,
    supersedes: p.supersedes,
    file: p.file,
    rows: p.rows,
    bytes: p.bytes,
    sha256: p.sha256,
  };
}

/** The summary table of a --from/--to run: one row per day run. */
function describeRange(days: DayRunSummary[], dryRun: boolean): string {
  const what = (d: DayRunSummary): string => {
    switch (d.outcome) {
      case 'WOULD_DELIVER':
        return `would deliver v${d.version}`;
      case 'NOTHING_TO_DELIVER':
        return 'nothing to deliver';
      case 'UNCHANGED':
        return `unchanged since v${d.version}`;
      case 'BUILT':
        return `built v${d.version} (not delivered)`;
      case 'REDELIVERED':
        return `re-delivered v${d.version}`;
      case 'DELIVERED':
        return `delivered v${d.version}`;
    }
  };
  const rows = days.map((d) => [
    d.day,
    what(d),
    d.supersedes === null ? null : `v${d.supersedes}`,
    d.outcome === 'NOTHING_TO_DELIVER' ? null : d.rows,
    d.outcome === 'NOTHING_TO_DELIVER' ? null : d.sha256.slice(0, 16),
  ]);
  const head = dryRun ? 'dry run: nothing was written, built on disk or sent' : `${days.length} day(s) run`;
  return `${head}\n${table(['day', 'outcome', 'supersedes', 'rows', 'sha256'], rows)}`;
}

function describePlan(p: DayExportPlan): string {
  const measured = `${p.rows} rows, ${p.bytes} bytes, sha256 ${p.sha256}`;
  const lines: Record<DayExportPlan['outcome'], string> = {
    WOULD_DELIVER: p.resend
      ? `day ${p.serviceDay}: would deliver v${p.version} again, the same bytes (${p.file}: ${measured})`
      : `day ${p.serviceDay}: would deliver v${p.version}${p.supersedes === null ? '' : ` (superseding v${p.supersedes})`} (${p.file}: ${measured})`,
    UNCHANGED: `day ${p.serviceDay}: unchanged since v${p.version} (${measured}): nothing would be delivered`,
    NOTHING_TO_DELIVER: `day ${p.serviceDay}: nothing to deliver (no tap stored, no version ever sent)`,
  };
  return `${lines[p.outcome]}\ndry run: nothing was written, built on disk or sent`;
}
