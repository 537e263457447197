import { loadEnv } from '@boarding/config/env';
import { createDb } from '@boarding/db/client';
import { createIngestService, type RunSummary } from '@boarding/ingest/ingest-service';
import { type ReconcileReport, type ReconcileScope, reconcileOffsets } from '@boarding/ingest/reconcile';
import { IngestEnv } from '@boarding/ingest/settings';
import { createKafka } from '@boarding/kafka/client';
import { ShutdownRegistry } from '@boarding/lifecycle/shutdown';
import type { Command } from 'commander';
import { parseDay, UsageError, wholeNumber } from '../arguments';
import { createCommandLogger } from '../command-logger';
import { emit, type GlobalOptions, table, total } from '../output';
import { serveService } from './serve';

type CatchUpOptions = GlobalOptions & { untilCaughtUp?: boolean; timeout?: number };

export function registerIngest(program: Command): void {
  const ingest = program
    .command('ingest')
    .description(
      'run the ingest consumer (Kafka → PostgreSQL); without --until-caught-up it runs until SIGTERM',
    )
    .option('--until-caught-up', 'exit 0 once the consumer group has no lag on any partition')
    .option(
      '--timeout <seconds>',
      'with --until-caught-up: give up (exit 1, naming what is behind or stalled) after this long',
      wholeNumber(1),
    )
    .option('--json', 'print the final counts as JSON (with --until-caught-up)')
    .action(async (options: CatchUpOptions) => {
      if (!options.untilCaughtUp) {
        await serveService('ingest');
        return;
      }
      await catchUp(options);
    });

  ingest
    .command('reconcile')
    .description(
      'account for every committed offset of the taps topic: each must be a stored tap, a duplicate, a dead letter or a heartbeat; lists offsets with no record (exit 1 if any)',
    )
    .option('--day <YYYY-MM-DD>', "the offsets a replay of this service day reads (the day's window)")
    .option('--partition <n>', 'one partition (with --from and --to)', wholeNumber(0))
    .option('--from <offset>', 'first offset, inclusive', wholeNumber(0))
    .option('--to <offset>', 'last offset, inclusive', wholeNumber(0))
    .option('--json', 'print the report as JSON')
    .action(async (_options: unknown, command: Command) => {
      // --json is also an option of `ingest` itself, which commander hands it: read both.
      const options = command.optsWithGlobals<
        GlobalOptions & { day?: string; partition?: number; from?: number; to?: number }
      >();
      const report = await reconcile(scopeOf(options));
      emit(options, report, renderReconcile);
      if (report.totals.unaccounted > 0 || report.totals.doubled > 0) process.exitCode = 1;
    });
}

function scopeOf(options: { day?: string; partition?: number; from?: number; to?: number }): ReconcileScope {
  const ranged = options.partition !== undefined || options.from !== undefined || options.to !== undefined;
  if (options.day !== undefined && ranged)
    throw new UsageError('give either --day or --partition/--from/--to, not both');
  if (options.day !== undefined) return { kind: 'day', day: parseDay(options.day) };
  if (!ranged) return { kind: 'all' };
  if (options.partition === undefined || options.from === undefined || options.to === undefined) {
    throw new UsageError('--partition, --from and --to go together');
  }
  return { kind: 'partition', partition: options.partition, from: options.from, to: options.to };
}

async function reconcile(scope: ReconcileScope): Promise<ReconcileReport> {
  const env = loadEnv(IngestEnv);
  const logger = createCommandLogger('ingest');
  const kafka = createKafka({
    brokers: env.KAFKA_BROKERS,
    clientId: `${env.KAFKA_CLIENT_ID}-reconcile`,
    logger,
  });
  const admin = kafka.admin();
  const { pool } = createDb({ url: env.DATABASE_URL });
  try {
    await admin.connect();
    return await reconcileOffsets({
      admin,
      pool,
      topic: env.KAFKA_TAPS_TOPIC,
      groupId: env.INGEST_GROUP_ID,
      maxTapAgeDays: env.MAX_TAP_AGE_DAYS,
      scope,
    });
  } finally {
    await admin.disconnect().catch(() => undefined);
    await pool.end();
  }
}

function renderReconcile(r: ReconcileReport): string {
  const t = r.totals;
  const lines = [
    `topic ${r.topic}, group ${r.groupId}: ${t.messages} committed offsets walked`,
    table(
      [
        'partition',
        'from',
        'to',
        'offsets',
        'taps',
        'duplicates',
        'dead letters',
        'heartbeats',
        'unaccounted',
      ],
      r.partitions.map((p) => [
        p.partition,
        p.from,
        p.to - 1,
        p.messages,
        p.taps,
        p.duplicates,
        total(p.deadLettered),
        p.heartbeats,
        p.unaccountedCount,
      ]),
    ),
    `  ${t.taps} taps, ${t.duplicates} duplicates, ${total(t.deadLettered)} dead letters${reasons(t.deadLettered)}, ${t.heartbeats} heartbeats`,
  ];
  if (r.uncommitted > 0) lines.push(`  ${r.uncommitted} offsets in scope are not committed yet (not judged)`);
  for (const p of r.partitions) {
    for (const [from, to] of p.unaccounted) {
      lines.push(
        `  NO RECORD: partition ${p.partition} offset${from === to ? ` ${from}` : `s ${from}-${to}`}`,
      );
    }
    for (const offset of p.doubled) lines.push(`  TWO RECORDS: partition ${p.partition} offset ${offset}`);
  }
  lines.push(
    t.unaccounted === 0 && t.doubled === 0
      ? 'every offset is accounted for'
      : `${t.unaccounted} offsets with no record, ${t.doubled} with more than one`,
  );
  return lines.join('\n');
}

/** A progress line says the database is not answering once the run's accounting waited this long. */
const WAITING_HINT_MS = 5000;

/** How long the end of a run (caught up, or failed) waits for its parts to stop. */
const STOP_DEADLINE_MS = 10_000;

/**
 * Stop the run's parts, waiting at most STOP_DEADLINE_MS. A chunk whose statement went to a
 * database that stopped answering never returns, and its open connection would keep the process
 * alive for ever after the run has failed (its timeout or stall reported). Past the deadline the
 * process exits a second later, with the exit code the command set: the chunk's transaction dies
 * with its connection, and its offsets were never committed, so nothing is lost.
 */
async function stopOrLeave(shutdown: ShutdownRegistry): Promise<void> {
  if (await shutdown.stopWithin(STOP_DEADLINE_MS)) return;
  process.stderr.write(
    `boarding: ingest: still waiting for a server after ${STOP_DEADLINE_MS / 1000} s of shutdown (one that does not answer); exiting without it\n`,
  );
  setTimeout(() => process.exit(), 1000).unref();
}

/** `ingest --until-caught-up`: consume until the group has no lag, then print the run's totals. */
async function catchUp(options: CatchUpOptions): Promise<void> {
  const env = loadEnv(IngestEnv);
  // Logs stay quiet in a foreground run unless LOG_LEVEL says otherwise; progress is below.
  const logger = createCommandLogger('ingest');
  const shutdown = new ShutdownRegistry(logger);
  let caughtUp = false;
  let lastLag: number | undefined;
  // Interrupted before it caught up is a failure: a script must not go on to export a day
  // the ingest has not read.
  shutdown.listen((code, signal) => {
    if (!caughtUp) {
      process.stderr.write(
        `boarding: ingest interrupted by ${signal} before the group caught up${lastLag === undefined ? '' : ` (lag ${lastLag})`} [INGEST_INTERRUPTED]\n`,
      );
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    process.exit(code);
  });
  let consumed = 0;
  let stored = 0;
  const service = createIngestService(env, logger, shutdown, {
    onChunk: (r) => {
      consumed += r.consumed;
      stored += r.stored;
    },
    summary: true,
  });
  const started = Date.now();
  let summary: RunSummary;
  try {
    await service.start({ http: false });
    await service.untilCaughtUp({
      intervalMs: 1000,
      timeoutMs: options.timeout === undefined ? undefined : options.timeout * 1000,
      onTick: (lag) => {
        lastLag = lag.total;
        const secs = (Date.now() - started) / 1000;
        const waiting = service.accountingWaitMs();
        const hint =
          waiting >= WAITING_HINT_MS
            ? `; PostgreSQL has not answered for ${Math.round(waiting / 1000)} s`
            : '';
        process.stderr.write(
          `ingest: ${consumed} read by this process (${Math.round(consumed / secs)}/s), ${stored} new taps, lag ${lag.total}${hint}\n`,
        );
      },
    });
    caughtUp = true;
    summary = await service.summary();
  } catch (err) {
    await stopOrLeave(shutdown).catch(() => undefined);
    throw err;
  }
  await stopOrLeave(shutdown);
  // newTaps: rows this process inserted (a tap read again after a restart is not new).
  const result = { ...summary, newTaps: stored, lag: 0, seconds: (Date.now() - started) / 1000 };
  emit(options, result, renderSummary);
  if (summary.unaccounted > 0 || summary.doubled > 0) process.exitCode = 1;
}

function renderSummary(r: RunSummary & { seconds: number; newTaps: number }): string {
  return [
    `caught up in ${r.seconds.toFixed(1)}s: ${r.messages} messages committed in this run (${r.newTaps} taps new to the store)`,
    `  ${r.taps} taps (${r.matched} matched, ${r.taps - r.matched} unmatched), ${r.duplicates} duplicates, ${r.heartbeats} heartbeats`,
    `  dead-lettered: ${total(r.deadLettered)}${reasons(r.deadLettered)}`,
    r.unaccounted === 0 && r.doubled === 0
      ? '  every offset accounted for'
      : `  ${r.unaccounted} offsets with no record, ${r.doubled} with more than one: run boarding ingest reconcile`,
  ].join('\n');
}

function reasons(r: Record<string, number>): string {
  const entries = Object.entries(r).sort(([a], [b]) => (a < b ? -1 : 1));
  return entries.length ? ` (${entries.map(([k, v]) => `${k} ${v}`).join(', ')})` : '';
}
