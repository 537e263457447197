import type { JobsOptions } from 'bullmq';
import { z } from 'zod';

/**
 * `hes-refresh` (SPEC §10): ask the HES service for the status of every live match and store the
 * ones that changed; the card status triggers and the relay do the publishing. Produced by the job
 * scheduler HES_REFRESH_SCHEDULER_ID on HES_REFRESH_CRON, or by hand (`refreshNow`).
 */
export const HES_REFRESH_JOB = 'hes-refresh';

/** One scheduler per deployment: every process upserts the same id, so one firing per slot. */
export const HES_REFRESH_SCHEDULER_ID = 'hes-refresh';

export const HesRefreshPayload = z.strictObject({
  trigger: z.enum(['scheduled', 'manual']),
});
export type HesRefreshPayload = z.infer<typeof HesRefreshPayload>;

/** A payload that does not fit the job's schema: a programming error, never retried. */
export class InvalidJobPayloadError extends Error {
  readonly code = 'JOB_PAYLOAD_INVALID';
  readonly retryable = false;
  constructor(issues: readonly z.core.$ZodIssue[]) {
    super(
      `invalid ${HES_REFRESH_JOB} payload: ${issues.map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`).join('; ')}`,
    );
    this.name = 'InvalidJobPayloadError';
  }
}

/** Validated on enqueue and again on dequeue (Redis holds whatever an older release wrote). */
export function parseHesRefreshPayload(data: unknown): HesRefreshPayload {
  const result = HesRefreshPayload.safeParse(data);
  if (!result.success) throw new InvalidJobPayloadError(result.error.issues);
  return result.data;
}

/**
 * Tries and retention. A try that failed because the HES service was away is retried twice, a
 * minute and then two later; after that the next firing (an hour on) tries again anyway.
 */
export const HES_REFRESH_JOB_OPTIONS: JobsOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 60_000 },
  removeOnComplete: { age: 7 * 86400, count: 500 },
  removeOnFail: { age: 30 * 86400, count: 500 },
};

/** `hes-refresh-manual-2020-11-21T10-15-00-000Z`: BullMQ 5 refuses a custom id with one ':'. */
export function manualRefreshJobId(at: Date): string {
  return `hes-refresh-manual-${at.toISOString().replace(/[:.]/g, '-')}`;
}

export type HesRefreshJobResult = {
  checked: number;
  changed: number;
  risky: number;
  riskless: number;
  mismatched: number;
  superseded: number;
  batches: number;
};
