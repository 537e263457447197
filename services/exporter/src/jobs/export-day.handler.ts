import { type DayExportContext, deliverDayExport } from '@boarding/delivery/deliver-day-export';
import type { DeliveryTransport } from '@boarding/delivery/transport';
import { dayCompleteness } from '@boarding/export/completeness';
import type { DayStats, IngestBehind } from '@boarding/export/manifest';
import type { Logger } from '@boarding/logger/logger';
import { DelayedError, type Job } from 'bullmq';
import { type ExporterMetrics, observeDelivery } from '../metrics';
import type { ExportDayJobResult, ExportDayPayload } from './export-day';

export type ExportDayHandlerContext = Pick<DayExportContext, 'pool' | 'keyring' | 'settings'> & {
  transport: DeliveryTransport;
  logger: Logger;
  /** The business clock: deadlines and the manifest's generatedAt (tests drive it). */
  now: () => Date;
  metrics: ExporterMetrics;
  recheckMs: number;
  /** SPEC §5's ingest gate: the ingest group's lag on D's messages. */
  ingestBehind: (day: string) => Promise<IngestBehind>;
  /** More than this share of the expected fleet silent on a nightly day raises an alert. */
  silentAlertRatio: number;
};

/**
 * Run one `export-day` job. Before the deadline a nightly export sleeps in Redis (BullMQ's
 * moveToDelayed + DelayedError, which spends no attempt) while any validator of D has gaps or
 * has not uploaded past the day; then it delivers what there is (SPEC §5). Errors go up as they
 * are: the processor turns the non-retryable ones into UnrecoverableError.
 */
export async function handleExportDay(
  ctx: ExportDayHandlerContext,
  job: Pick<Job, 'moveToDelayed'>,
  token: string | undefined,
  payload: ExportDayPayload,
  signal?: AbortSignal,
): Promise<ExportDayJobResult> {
  const { day, trigger } = payload;
  if (payload.waitForCompleteness && payload.deadline !== null && ctx.now() < new Date(payload.deadline)) {
    const client = await ctx.pool.connect();
    const completeness = await dayCompleteness(client, day).finally(() => client.release());
    const withGaps = completeness.validatorsWithGaps.length;
    const awaitingUpload = completeness.validatorsAwaitingUpload.length;
    // A day is never judged complete on data the ingest has not read; a lag that cannot be read
    // counts as behind (the deadline still ends the wait).
    const behind = await readIngestBehind(ctx, day);
    ctx.metrics.ingestBehind.set(behind?.messages ?? -1);
    const ingestBehind = behind === null || behind.messages > 0;
    if (withGaps + awaitingUpload > 0 || ingestBehind) {
      ctx.metrics.rechecks.inc();
      ctx.logger.info(
        {
          day,
          validatorsSeen: completeness.validatorsSeen,
          validatorsComplete: completeness.validatorsComplete,
          withGaps,
          awaitingUpload,
          ingestBehind: behind ?? 'unreadable',
          deadline: payload.deadline,
          recheckInMs: ctx.recheckMs,
        },
        'day not complete yet: waiting',
      );
      // The wait is in real time (BullMQ's clock), whatever the business clock says.
      if (token === undefined) throw new Error('no worker token: the job cannot be put back to sleep');
      await job.moveToDelayed(Date.now() + ctx.recheckMs, token);
      throw new DelayedError();
    }
  }
  if (trigger === 'late-window' && (await nothingToRecheck(ctx, day))) {
    ctx.metrics.days.inc({ outcome: 'SKIPPED' });
    ctx.metrics.lastSuccess.setToCurrentTime();
    ctx.logger.info({ day, trigger }, 'no taps stored and nothing delivered: nothing to re-check');
    return { day, trigger, outcome: 'SKIPPED', version: null, rows: null, file: null, deliveryAttempts: 0 };
  }
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  const result = await deliverDayExport(
    {
      pool: ctx.pool,
      keyring: ctx.keyring,
      settings: ctx.settings,
      transport: ctx.transport,
      logger: ctx.logger,
      now: ctx.now,
      ingestBehind: ctx.ingestBehind,
      signal,
    },
    { day, deliver: true, trigger },
  ).catch((err: unknown) => {
    observeDelivery(ctx.metrics, { outcome: 'FAILED', seconds: seconds() });
    throw err;
  });
  observeDelivery(ctx.metrics, {
    outcome: result.outcome,
    seconds: seconds(),
    bytes: result.manifest.bytes,
    rows: result.manifest.rows,
  });
  ctx.metrics.days.inc({ outcome: result.outcome });
  ctx.metrics.lastSuccess.setToCurrentTime();
  // boarding_export_last_nightly_day_seconds is read from the ledger at scrape time.
  // This run's build, not the manifest delivered earlier (an UNCHANGED run keeps that one).
  if (trigger === 'nightly') alertOnIncompleteNight(ctx, day, result.buildStats);
  ctx.logger.info(
    {
      day,
      trigger,
      version: result.version,
      outcome: result.outcome,
      rows: result.manifest.rows,
      deliveryAttempts: result.attempts,
    },
    'day exported',
  );
  return {
    day,
    trigger,
    outcome: result.outcome,
    version: result.version,
    rows: result.manifest.rows,
    file: result.manifest.file,
    deliveryAttempts: result.attempts,
  };
}

/** The ingest's lag on D, or null when it cannot be read (Kafka away). */
async function readIngestBehind(ctx: ExportDayHandlerContext, day: string): Promise<IngestBehind | null> {
  try {
    return await ctx.ingestBehind(day);
  } catch (err) {
    ctx.logger.warn(
      { day, err: (err as Error).message },
      'ingest lag unreadable: the day counts as not read yet',
    );
    return null;
  }
}

/**
 * SPEC §5 alerts of a nightly day as delivered: the ingest still behind (or unreadable) at the
 * deadline, validators with gaps, and a silent share of the fleet above the ratio. None of them
 * holds the file back any longer: it is delivered, the manifest says what is missing.
 */
function alertOnIncompleteNight(ctx: ExportDayHandlerContext, day: string, stats: DayStats): void {
  const behind = stats.ingestBehind;
  if (behind === null || behind.messages > 0) {
    ctx.metrics.deliveredIncomplete.inc({ reason: 'ingest-behind' });
    ctx.logger.error(
      { alert: true, day, ingestBehind: behind ?? 'unreadable' },
      behind === null
        ? `day ${day} delivered without knowing whether the ingest had read it: the Kafka lag could not be read`
        : `day ${day} delivered while the ingest was ${behind.messages} message(s) behind (oldest unread ${behind.oldestUnreadAt}): a later version will follow`,
    );
  }
  if (stats.validatorsWithGaps.length + stats.validatorsAwaitingUpload.length > 0) {
    ctx.metrics.deliveredIncomplete.inc({ reason: 'deadline-gaps' });
  }
  const ratio = stats.validatorsExpected === 0 ? 0 : stats.validatorsSilent.length / stats.validatorsExpected;
  ctx.metrics.silentRatio.set(ratio);
  if (ratio > ctx.silentAlertRatio) {
    ctx.metrics.silentFleetAlerts.inc();
    ctx.logger.error(
      {
        alert: true,
        day,
        validatorsSilent: stats.validatorsSilent.length,
        validatorsExpected: stats.validatorsExpected,
        firstSilent: stats.validatorsSilent.slice(0, 20),
      },
      `silent fleet on ${day}: ${stats.validatorsSilent.length} of ${stats.validatorsExpected} validators seen in the week before sent nothing (more than ${Math.round(ctx.silentAlertRatio * 100)} %)`,
    );
  }
}

/**
 * A late-window day with no taps and no delivered version: a day before the service existed,
 * or the nights the late window reaches back over after a fresh install. Delivering empty v1
 * files for those would tell the Ministry there were no boardings. A day that has taps but
 * failed to deliver is not skipped: that is the next night's retry.
 */
async function nothingToRecheck(ctx: ExportDayHandlerContext, day: string): Promise<boolean> {
  const { rows } = await ctx.pool.query<{ taps: boolean; delivered: boolean }>(
    `select exists (select 1 from boardings where service_day = $1::date) as taps,
            exists (select 1 from export_versions where service_day = $1::date) as delivered`,
    [day],
  );
  return rows[0]?.taps === false && rows[0]?.delivered === false;
}
