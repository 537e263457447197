import type { Logger } from '@boarding/logger/logger';
import type { Job } from 'bullmq';
import type { Pool } from 'pg';
import type { EnqueueResult } from './enqueue-day';
import type { ExportDayPayload } from './export-day';
import type { NightlyJobResult, NightlyPayload } from './nightly';
import { planNight } from './nightly-plan';
import { recordNightlyRun } from './nightly-runs';

export type NightlyHandlerContext = {
  pool: Pool;
  logger: Logger;
  timeZone: string;
  deadline: string;
  lateWindowDays: number;
  enqueueDay: (payload: ExportDayPayload) => Promise<EnqueueResult>;
};

/**
 * The night is the job's scheduled time, not the moment a worker picked it up: the scheduler
 * stores it as `opts.prevMillis` (BullMQ's getNextJobOpts), so a job run late (workers down at
 * 03:30, back at 09:00) or promoted by hand still exports the right D. `timestamp` (when the job
 * was created) is the fallback for a job added without the scheduler.
 */
export function firingTime(job: Pick<Job, 'opts' | 'timestamp'>, payload: NightlyPayload = {}): Date {
  if (payload.firedAt !== undefined) return new Date(payload.firedAt);
  return new Date(job.opts.prevMillis ?? job.timestamp);
}

/** Enqueue the night's exports (planNight). Idempotent: a retry re-enqueues what is missing. */
export async function handleNightly(
  ctx: NightlyHandlerContext,
  job: Pick<Job, 'opts' | 'timestamp'>,
  payload: NightlyPayload = {},
): Promise<NightlyJobResult> {
  const firedAt = firingTime(job, payload);
  const plan = planNight({
    firedAt,
    timeZone: ctx.timeZone,
    deadline: ctx.deadline,
    lateWindowDays: ctx.lateWindowDays,
  });
  const days: NightlyJobResult['days'] = [];
  for (const p of plan) {
    const { status } = await ctx.enqueueDay(p);
    days.push({ day: p.day, trigger: p.trigger, enqueued: status });
  }
  // Recorded once its days are queued: the firing an exporter starting later compares with.
  await recordNightlyRun(ctx.pool, {
    firedAt,
    serviceDay: plan[0]?.day ?? '',
    source: payload.firedAt === undefined ? 'scheduler' : 'catch-up',
  });
  ctx.logger.info(
    {
      firedAt: firedAt.toISOString(),
      day: plan[0]?.day,
      deadline: plan[0]?.deadline,
      lateWindow: plan.length - 1,
      alreadyQueued: days.filter((d) => d.enqueued === 'already-queued').map((d) => d.day),
    },
    'nightly export planned',
  );
  return { firedAt: firedAt.toISOString(), days };
}
