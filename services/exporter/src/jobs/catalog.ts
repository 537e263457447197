import type { JobsOptions } from 'bullmq';
import type { z } from 'zod';
import { EXPORT_DAY_JOB, ExportDayPayload, exportDayJobId } from './export-day';
import { NIGHTLY_JOB, NightlyPayload } from './nightly';
import { RETENTION_JOB, RetentionPayload } from './retention';

/** Every job the exporter's queue carries, by name, with its payload type. */
export type JobPayloads = {
  [NIGHTLY_JOB]: NightlyPayload;
  [EXPORT_DAY_JOB]: ExportDayPayload;
  [RETENTION_JOB]: RetentionPayload;
};
export type JobName = keyof JobPayloads;

export type JobSpec<N extends JobName> = {
  name: N;
  payload: z.ZodType<JobPayloads[N]>;
  /** Tries in all (the first included) before the job fails for good. */
  attempts: number;
  backoff: { type: 'exponential'; delay: number };
  /** A try running longer than this fails (and is retried while attempts remain). */
  timeoutMs: number;
  /** Deterministic id: the same work is one job, never two. Undefined: BullMQ picks the id. */
  jobId?: (payload: JobPayloads[N]) => string;
};

export type JobCatalog = { [N in JobName]: JobSpec<N> };

export type CatalogSettings = { attempts: number; backoffMs: number; exportTimeoutMs: number };

/** The catalog as the environment configures it (EXPORT_JOB_ATTEMPTS, …_BACKOFF_MS, …_TIMEOUT_MS). */
export function createJobCatalog(settings: CatalogSettings): JobCatalog {
  const backoff = { type: 'exponential', delay: settings.backoffMs } as const;
  return {
    [NIGHTLY_JOB]: {
      name: NIGHTLY_JOB,
      payload: NightlyPayload,
      attempts: settings.attempts,
      backoff,
      // It only enqueues a handful of jobs.
      timeoutMs: 60000,
    },
    [EXPORT_DAY_JOB]: {
      name: EXPORT_DAY_JOB,
      payload: ExportDayPayload,
      attempts: settings.attempts,
      backoff,
      timeoutMs: settings.exportTimeoutMs,
      jobId: (p) => exportDayJobId(p.day),
    },
    [RETENTION_JOB]: {
      name: RETENTION_JOB,
      payload: RetentionPayload,
      attempts: settings.attempts,
      backoff,
      // Detaching a partition waits for the transactions reading it (an export's build), and a first
      // run on years of data deletes a lot. A try past this fails while its run goes on; the retry
      // finds that run's lock (RETENTION_BUSY) and backs off. Every step is safe to stop and redo.
      timeoutMs: 4 * 3600000,
    },
  };
}

/** A payload that does not fit its job's schema: a programming error, never retried. */
export class InvalidJobPayloadError extends Error {
  readonly code = 'JOB_PAYLOAD_INVALID';
  readonly retryable = false;
  constructor(name: string, issues: readonly z.core.$ZodIssue[]) {
    // Paths and zod's messages only, never the values (a payload could one day carry more).
    super(
      `invalid ${name} payload: ${issues.map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`).join('; ')}`,
    );
    this.name = 'InvalidJobPayloadError';
  }
}

export function isJobName(name: string): name is JobName {
  return name === NIGHTLY_JOB || name === EXPORT_DAY_JOB || name === RETENTION_JOB;
}

/** Validate a payload on enqueue and again on dequeue (Redis holds whatever an older release wrote). */
export function parseJobPayload<N extends JobName>(
  catalog: JobCatalog,
  name: N,
  data: unknown,
): JobPayloads[N] {
  const spec: JobSpec<N> = catalog[name];
  const result = spec.payload.safeParse(data);
  if (!result.success) throw new InvalidJobPayloadError(name, result.error.issues);
  return result.data;
}

// Finished jobs stay for Bull Board and the failing-days gauge, then go: a month of failures,
// two weeks of successes (a night makes 1 + LATE_WINDOW_DAYS jobs).
const KEEP_COMPLETED = { age: 14 * 86400, count: 1000 };
const KEEP_FAILED = { age: 30 * 86400, count: 1000 };

/** BullMQ options of one job: its catalog entry's attempts, backoff, id and retention. */
export function jobOptions<N extends JobName>(
  catalog: JobCatalog,
  name: N,
  payload: JobPayloads[N],
): JobsOptions {
  const spec: JobSpec<N> = catalog[name];
  return {
    attempts: spec.attempts,
    backoff: spec.backoff,
    removeOnComplete: KEEP_COMPLETED,
    removeOnFail: KEEP_FAILED,
    ...(spec.jobId ? { jobId: spec.jobId(payload) } : {}),
  };
}
