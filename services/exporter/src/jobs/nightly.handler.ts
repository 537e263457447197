import type { Logger } from '@boarding/logger/logger';
import type { Job } from 'bullmq';
import type { EnqueueResult } from './enqueue-day';
import type { ExportDayPayload } from './export-day';
import type { NightlyJobResult } from './nightly';
import { planNight } from './nightly-plan';

export type NightlyHandlerContext = {
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
export function firingTime(job: Pick<Job, 'opts' | 'timestamp'>): Date {
  return new Date(job.opts.prevMillis ?? job.timestamp);
}

/** Enqueue the night's exports (planNight). Idempotent: a retry re-enqueues what is missing. */
export async function handleNightly(
  ctx: NightlyHandlerContext,
  job: Pick<Job, 'opts' | 'timestamp'>,
): Promise<NightlyJobResult> {
  const firedAt = firingTime(job);
  const plan = planNight({
    firedAt,
    timeZone: ctx.timeZone,
    deadline: ctx.deadline,
    lateWindowDays: ctx.lateWindowDays,
  });
  const days: NightlyJobResult['days'] = [];
  for (const payload of plan) {
    const { status } = await ctx.enqueueDay(payload);
    days.push({ day: payload.day, trigger: payload.trigger, enqueued: status });
  }
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
