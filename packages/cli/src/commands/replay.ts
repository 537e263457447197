import { loadEnv, SftpEnv } from '@boarding/config/env';
import {
  type Comparison,
  planReplayDay,
  type ReplayDayContext,
  type ReplayPlanReport,
  type ReplayReport,
  replayDay,
  SAMPLES,
} from '@boarding/day/replay-day';
import { createDb } from '@boarding/db/client';
import { sftpTransportFromEnv } from '@boarding/delivery/sftp-transport';
import { loadKeyring } from '@boarding/encryption/load-keyring';
import { ExportEnv, exportSettings } from '@boarding/export/settings';
import { IngestEnv } from '@boarding/ingest/settings';
import { createKafka } from '@boarding/kafka/client';
import type { Command } from 'commander';
import { MAX_RANGE_DAYS, parseDays } from '../arguments';
import { createCommandLogger } from '../command-logger';
import { RangeStoppedError } from '../failure';
import { emit, type GlobalOptions, table, total } from '../output';
import { createProgressBar } from '../progress';
import { verifyKeys } from '../verify-keys';

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description(
      "re-read a day's taps from Kafka and re-ingest them idempotently, rebuild the day's file and show how it differs from the last delivered version; delivers only with --deliver",
    )
    .option('--day <YYYY-MM-DD>', 'the service day (Europe/Istanbul)')
    .option(
      '--from <YYYY-MM-DD>',
      `first day of a range, with --to (both included, at most ${MAX_RANGE_DAYS} days)`,
    )
    .option('--to <YYYY-MM-DD>', 'last day of a range')
    .option('--deliver', 'deliver the rebuilt file if its content differs from the last delivered version')
    .option(
      '--dry-run',
      'read the window and say what a replay would store and deliver; writes nothing, delivers nothing',
    )
    .option('--json', 'print the result as one JSON object')
    .addHelpText(
      'after',
      `
Examples:
  $ boarding replay --day 2020-11-18 --dry-run     what would change, nothing written
  $ boarding replay --day 2020-11-18 --deliver     re-ingest, rebuild, deliver if changed

A dry run reads the same Kafka window with a throwaway consumer group and compares each tap with
the store: the taps of the day missing from it (and how many of them would be rows of the file),
the taps of other days missing, the offsets with no record, and the day's file as it is stored
now against the last version sent. Its verdict is what --deliver would do.

A range replays its days in order, oldest first, each as --day would, and stops at the first day
that fails (the days before it are done and shown; the same range run again finds them stored).`,
    )
    .action(
      async (
        options: GlobalOptions & {
          day?: string;
          from?: string;
          to?: string;
          deliver?: boolean;
          dryRun?: boolean;
        },
      ) => {
        const days = parseDays(options);
        const range = options.day === undefined;
        const dryRun = options.dryRun === true;
        // A dry run answers for --deliver too (its verdict is what a delivery would send).
        const deliver = options.deliver === true && !dryRun;
        // Every setting is checked before the long read starts.
        const env = loadEnv(IngestEnv);
        const settings = exportSettings(loadEnv(ExportEnv));
        const transport = deliver ? sftpTransportFromEnv(loadEnv(SftpEnv)) : undefined;
        const keyring = loadKeyring();
        const logger = createCommandLogger('replay');
        const { pool } = createDb({ url: env.DATABASE_URL, pool: { max: env.INGEST_CONCURRENCY + 2 } });
        const kafka = createKafka({
          brokers: env.KAFKA_BROKERS,
          clientId: `${env.KAFKA_CLIENT_ID}-replay`,
          logger,
        });
        try {
          await verifyKeys(pool, keyring);
          const base = {
            kafka,
            pool,
            keyring,
            settings,
            logger,
            topic: env.KAFKA_TAPS_TOPIC,
            maxTapAgeDays: env.MAX_TAP_AGE_DAYS,
            chunkSize: env.INGEST_CHUNK_SIZE,
            concurrency: env.INGEST_CONCURRENCY,
          };
          if (dryRun) {
            await runDays(
              days,
              range,
              options,
              (day, hooks) =>
                planReplayDay(
                  {
                    ...base,
                    onReplayProgress: hooks.onReplayProgress,
                    onBuildRows: (rows) => hooks.onExportProgress?.({ phase: 'build', rows }),
                  },
                  { day },
                ),
              { one: describeReplayPlan, all: describeReplayPlans, json: { dryRun: true } },
            );
          } else {
            await runDays(
              days,
              range,
              options,
              (day, hooks) => replayDay({ ...base, ...hooks, transport }, { day, deliver }),
              { one: describeReplay, all: describeReplays, json: {} },
            );
          }
        } finally {
          await pool.end();
        }
      },
    );
}

type ProgressHooks = Pick<ReplayDayContext, 'onReplayProgress' | 'onExportProgress'>;

/** One day's replay with its two progress bars (none with --json). */
async function replayOneDay<T>(
  day: string,
  json: boolean,
  run: (hooks: ProgressHooks) => Promise<T>,
): Promise<T> {
  const replayBar = json ? undefined : createProgressBar(`replay ${day}`);
  let replayBarStarted = false;
  const exportBar = json ? undefined : createProgressBar(`export ${day}`, { total: false });
  try {
    return await run({
      onReplayProgress: (p) => {
        if (!replayBar) return;
        if (!replayBarStarted) {
          replayBarStarted = true;
          replayBar.start(p.total, p.read, { phase: 'reading', rows: 0 });
        }
        // `rows` here: taps newly stored so far.
        replayBar.update(p.read, {
          phase: `${p.partitionsDone}/${p.partitions} partitions`,
          rows: p.stored,
        });
        if (p.partitionsDone === p.partitions) replayBar.stop();
      },
      onExportProgress: (e) => {
        if (!exportBar) return;
        replayBar?.stop();
        if (e.phase === 'build') {
          if (!exportBar.isActive) exportBar.start(0, 0, { phase: 'building', rows: 0 });
          exportBar.update({ phase: 'building', rows: e.rows });
        } else {
          exportBar.update({ phase: `delivering (try ${e.attempt})` });
        }
      },
    });
  } finally {
    replayBar?.stop();
    exportBar?.stop();
  }
}

/**
 * One day, or a range day by day in order (each shown as it is done; --json: one object at the
 * end), stopping at the first day that fails: the days before it are shown, then the failure.
 */
async function runDays<R>(
  days: string[],
  range: boolean,
  options: GlobalOptions,
  run: (day: string, hooks: ProgressHooks) => Promise<R>,
  show: { one: (r: R) => string; all: (rs: R[]) => string; json: Record<string, unknown> },
): Promise<void> {
  const reports: R[] = [];
  for (const [i, day] of days.entries()) {
    try {
      const report = await replayOneDay(day, options.json === true, (hooks) => run(day, hooks));
      reports.push(report);
      if (!range) emit(options, report, show.one);
      else if (!options.json) process.stdout.write(`${show.one(report)}\n\n`);
    } catch (err) {
      if (!range) throw err;
      if (!options.json && reports.length > 0) process.stdout.write(`${show.all(reports)}\n`);
      throw new RangeStoppedError(day, reports.length, days.slice(i + 1), err);
    }
  }
  if (range) {
    emit(options, { from: days[0], to: days.at(-1), ...show.json, days: reports }, (r) => show.all(r.days));
  }
}

function verdictOf(r: ReplayPlanReport): string {
  return r.verdict === 'UNCHANGED'
    ? `unchanged since v${r.plan.version}`
    : r.plan.resend && r.replay.missingOfDayMatched === 0
      ? `would re-send v${r.version}`
      : `would deliver v${r.version}`;
}

/** The summary table of a --from/--to dry run: one row per day. */
export function describeReplayPlans(reports: ReplayPlanReport[]): string {
  return `${reports.length} day(s) read (dry run: nothing written, nothing delivered)\n${table(
    ['day', 'messages read', 'taps of the day', 'missing', 'new file rows', 'with --deliver'],
    reports.map((r) => [
      r.day,
      r.replay.messagesRead,
      r.replay.tapsOfDay,
      r.replay.missingOfDay,
      r.replay.missingOfDayMatched,
      verdictOf(r),
    ]),
  )}`;
}

export function describeReplayPlan(r: ReplayPlanReport): string {
  const p = r.replay;
  const letters = Object.entries(p.deadLetters).map(([k, v]) => `${k} ${v}`);
  const last = r.plan.lastSent;
  const stored =
    r.plan.outcome === 'NOTHING_TO_DELIVER'
      ? 'no tap of the day is stored and no version was sent'
      : `${r.plan.rows} rows, sha256 ${r.plan.sha256.slice(0, 16)}…, ${
          last === null
            ? 'no version sent yet'
            : r.plan.outcome === 'UNCHANGED' || r.plan.resend
              ? `same content as v${last.version}`
              : `differs from v${last.version} (${last.rows} rows)`
        }`;
  return [
    `dry run of the replay of ${r.day} from ${p.topic}: ${p.messagesRead} messages read in ${p.seconds.toFixed(1)}s; nothing written, nothing delivered`,
    `  taps of ${r.day}: ${p.tapsOfDay} read, ${p.missingOfDay} missing from the store (a replay stores them again; ${p.missingOfDayMatched} of them are rows of the file)`,
    `  every day in the window: ${p.missing} taps missing, ${p.unrecorded} offsets with no record, ${total(p.deadLetters)} dead letters${letters.length > 0 ? ` (${letters.join(', ')})` : ''}, ${p.heartbeats} heartbeats`,
    `file as stored now: ${stored}`,
    `with --deliver: ${r.verdict === 'UNCHANGED' ? `nothing to deliver (${verdictOf(r)})` : verdictOf(r)}`,
  ].join('\n');
}

/** The summary table of a --from/--to replay: one row per day. */
export function describeReplays(reports: ReplayReport[]): string {
  const outcome = (r: ReplayReport): string => {
    const e = r.export;
    switch (e.outcome) {
      case 'DELIVERED':
        return `delivered v${e.version}`;
      case 'REDELIVERED':
        return `re-delivered v${e.version}`;
      case 'UNCHANGED':
        return `unchanged since v${e.version}`;
      case 'BUILT':
        return `built v${e.version} (not delivered)`;
    }
  };
  return `${reports.length} day(s) replayed\n${table(
    ['day', 'messages read', 'taps stored again', 'file', 'rows', 'sha256'],
    reports.map((r) => [
      r.day,
      r.replay.messagesRead,
      r.replay.storedOfDay,
      outcome(r),
      r.export.rows,
      r.export.sha256.slice(0, 16),
    ]),
  )}`;
}

export function describeReplay(r: ReplayReport): string {
  const p = r.replay;
  const e = r.export;
  const letters = Object.entries(p.deadLettered).map(([k, v]) => `${k} ${v}`);
  const head: Record<ReplayReport['export']['outcome'], string> = {
    DELIVERED: `delivered v${e.version}${e.supersedes === null ? '' : ` (supersedes v${e.supersedes})`} to ${e.target} in ${e.attempts} attempt(s)`,
    REDELIVERED: `re-delivered v${e.version} to ${e.target}`,
    UNCHANGED: `unchanged since v${e.version}: nothing to deliver`,
    BUILT: `built v${e.version}${e.supersedes === null ? '' : ` (would supersede v${e.supersedes})`}; not delivered (add --deliver to deliver it)`,
  };
  const lines = [
    `replay of ${r.day} from ${p.topic}: ${p.messagesRead} messages read in ${p.seconds.toFixed(1)}s`,
    `  taps of ${r.day}: ${p.tapsOfDay} read, ${p.storedOfDay} of them were missing and are stored again`,
    `  every day in the window: ${p.stored} newly stored (${p.matched} matched), ${p.alreadyStored} already stored, ${p.duplicates} duplicates, ${total(p.deadLettered)} dead letters${letters.length > 0 ? ` (${letters.join(', ')})` : ''}`,
    `file: ${head[e.outcome]}`,
    `  ${e.file}: ${e.rows} rows, ${e.bytes} bytes, sha256 ${e.sha256}`,
    `  local copy: ${e.filePath} (holds TC and HES in clear: keep it where only the export runs)`,
  ];
  lines.push(...describeComparison(r.comparison, e));
  return lines.join('\n');
}

function describeComparison(c: Comparison, e: ReplayReport['export']): string[] {
  switch (c.kind) {
    case 'NO_VERSION_DELIVERED':
      return ['no version of this day was ever delivered: nothing to compare with'];
    case 'UNCHANGED':
      return [
        `same content as v${c.against.version} (${c.against.file}, ${c.against.deliveredAt === null ? 'sent, never confirmed' : `delivered ${c.against.deliveredAt}`})`,
      ];
    case 'NO_LOCAL_COPY':
      return [
        `v${c.against.version} (${c.against.file}) has ${
          c.localCopy === 'MISSING'
            ? 'no local copy in the export directory'
            : 'a local copy that is not the delivered bytes'
        }: compared by rows and sha256 only`,
        `  rows ${c.rows.delivered} → ${c.rows.rebuilt}; sha256 ${c.sha256.delivered.slice(0, 16)}… → ${c.sha256.rebuilt.slice(0, 16)}…`,
      ];
    case 'DIFF': {
      const d = c.diff;
      const lines = [
        `difference from v${c.against.version} (${c.against.file}, ${c.against.deliveredAt === null ? 'sent, never confirmed' : `delivered ${c.against.deliveredAt}`}) to ${e.file}: ${d.added} added, ${d.removed} removed, ${d.changed} changed, ${d.unchanged} unchanged`,
      ];
      const rows = [
        ...d.samples.added.map((s) => ['added', s.dogrulayici_no, s.islem_no, s.binis_zamani, s.kart_no, '']),
        ...d.samples.removed.map((s) => [
          'removed',
          s.dogrulayici_no,
          s.islem_no,
          s.binis_zamani,
          s.kart_no,
          '',
        ]),
        ...d.samples.changed.map((s) => [
          'changed',
          s.dogrulayici_no,
          s.islem_no,
          s.after.binis_zamani,
          s.after.kart_no,
          s.columns.map((col) => `${col}: ${s.before[col] || '∅'} → ${s.after[col] || '∅'}`).join('; '),
        ]),
      ];
      if (rows.length > 0) {
        lines.push(
          `samples (at most ${SAMPLES} of each; TC, HES and card numbers masked)`,
          table(['', 'validator', 'seq', 'boarding time', 'card', 'changed'], rows),
        );
      }
      return lines;
    }
  }
}
