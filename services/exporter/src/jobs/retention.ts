import type { RetentionCounts, RetentionCutoffs } from '@boarding/retention/run-retention';
import { z } from 'zod';

/**
 * `retention`: SPEC §11's nightly deletion of personal data past its age (runRetention), produced
 * by the job scheduler RETENTION_SCHEDULER_ID on RETENTION_CRON in EXPORT_TZ. It runs on a queue
 * of its own (EXPORT_QUEUE + RETENTION_QUEUE_SUFFIX), so the export queue keeps exactly one
 * scheduler and a long retention run never holds an export slot.
 */
export const RETENTION_JOB = 'retention';

/** One scheduler per deployment, like the nightly export's: every process upserts the same id. */
export const RETENTION_SCHEDULER_ID = 'nightly-retention';

export const RETENTION_QUEUE_SUFFIX = '-retention';

/** The scheduler's template carries no data: "today" is the clock's when the run starts. */
export const RetentionPayload = z.strictObject({});
export type RetentionPayload = z.infer<typeof RetentionPayload>;

/** The job's return value, kept by BullMQ: counts and cutoff days only, never values. */
export type RetentionJobResult = { runId: number; cutoffs: RetentionCutoffs; counts: RetentionCounts };
