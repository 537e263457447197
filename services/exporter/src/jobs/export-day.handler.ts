import { serviceDayStartMs } from '@boarding/contracts/time';
import { type DayExportContext, deliverDayExport } from '@boarding/delivery/deliver-day-export';
import type { DeliveryTransport } from '@boarding/delivery/transport';
import { dayCompleteness } from '@boarding/export/completeness';
import type { Logger } from '@boarding/logger/logger';
import { DelayedError, type Job } from 'bullmq';
import type { ExporterMetrics } from '../metrics';
import type { ExportDayJobResult, ExportDayPayload } from './export-day';

export type ExportDayHandlerContext = Pick<DayExportContext, 'pool' | 'keyring' | 'settings'> & {
  transport: DeliveryTransport;
  logger: Logger;
  /** The business clock: deadlines and the manifest's generatedAt (tests drive it). */
  now: () => Date;
  metrics: ExporterMetrics;
  recheckMs: number;
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
): Promise<ExportDayJobResult> {
  const { day, trigger } = payload;
  if (payload.waitForCompleteness && payload.deadline !== null && ctx.now() < new Date(payload.deadline)) {
    const client = await ctx.pool.connect();
    const completeness = await dayCompleteness(client, day).finally(() => client.release());
    const withGaps = completeness.validatorsWithGaps.length;
    const awaitingUpload = completeness.validatorsAwaitingUpload.length;
    if (withGaps + awaitingUpload > 0) {
      ctx.metrics.rechecks.inc();
      ctx.logger.info(
        {
          day,
          validatorsSeen: completeness.validatorsSeen,
          validatorsComplete: completeness.validatorsComplete,
          withGaps,
          awaitingUpload,
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
  const result = await deliverDayExport(
    {
      pool: ctx.pool,
      keyring: ctx.keyring,
      settings: ctx.settings,
      transport: ctx.transport,
      logger: ctx.logger,
      now: ctx.now,
    },
    { day, deliver: true, trigger },
  );
  ctx.metrics.days.inc({ outcome: result.outcome });
  ctx.metrics.lastSuccess.setToCurrentTime();
  if (trigger === 'nightly') {
    const dayStart = serviceDayStartMs(day) / 1000;
    // Never backwards: a late nightly job of an older day (a caught-up missed night) does not hide a newer one.
    const current = (await ctx.metrics.nightlyLastDay.get()).values[0]?.value ?? 0;
    ctx.metrics.nightlyLastDay.set(Math.max(current, dayStart));
  }
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
