import { z } from 'zod';
import type { EnqueueStatus } from './enqueue-day';
import type { ExportDayTrigger } from './export-day';

/**
 * `nightly`: produced by the BullMQ job scheduler NIGHTLY_SCHEDULER_ID on EXPORT_CRON in
 * EXPORT_TZ. It exports nothing itself: it enqueues `export-day` for D−1 (waiting for
 * completeness) and for the late window before it.
 */
export const NIGHTLY_JOB = 'nightly';

/** One scheduler per deployment: every process upserts the same id, so there is one firing a night. */
export const NIGHTLY_SCHEDULER_ID = 'nightly-export';

/**
 * The scheduler's template carries no data: the night is the job's scheduled time. A night run
 * by catch-up (missed while the exporter was down, or Redis lost the scheduler) names its firing.
 */
export const NightlyPayload = z.strictObject({ firedAt: z.iso.datetime({ offset: true }).optional() });
export type NightlyPayload = z.infer<typeof NightlyPayload>;

/** `nightly-catch-up-2020-11-21T00-30-00-000Z`: one catch-up job per missed firing, whoever finds it. */
export function catchUpJobId(firedAt: Date): string {
  return `nightly-catch-up-${firedAt.toISOString().replace(/[:.]/g, '-')}`;
}

export type NightlyJobResult = {
  /** The scheduled firing time the plan was made from (ISO). */
  firedAt: string;
  days: { day: string; trigger: ExportDayTrigger; enqueued: EnqueueStatus }[];
};
