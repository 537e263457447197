import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import { withTimeout } from '../with-timeout';
import { isJobName, type JobCatalog, parseJobPayload } from './catalog';
import { EXPORT_DAY_JOB } from './export-day';
import { type ExportDayHandlerContext, handleExportDay } from './export-day.handler';
import { NIGHTLY_JOB } from './nightly';
import { handleNightly, type NightlyHandlerContext } from './nightly.handler';

/** A try ran past its catalog timeout. Retryable: the next try may find the receiver back. */
export class JobTimeoutError extends Error {
  readonly code = 'JOB_TIMEOUT';
  readonly retryable = true;
}

export type ProcessorContext = {
  catalog: JobCatalog;
  nightly: NightlyHandlerContext;
  exportDay: ExportDayHandlerContext;
};

/**
 * The worker's one processor: the catalog's dispatch by job name, the payload validated again on
 * dequeue, the catalog's timeout, and the one place errors are mapped for BullMQ: anything that
 * says `retryable: false` (a wrong host key, refused credentials, a bad payload) becomes an
 * UnrecoverableError, which fails the job at once instead of spending its remaining attempts.
 */
export function createProcessor(ctx: ProcessorContext) {
  return async (job: Job<unknown, unknown, string>, token?: string): Promise<unknown> => {
    try {
      if (!isJobName(job.name)) throw new UnrecoverableError(`unknown job name ${JSON.stringify(job.name)}`);
      switch (job.name) {
        case NIGHTLY_JOB: {
          const payload = parseJobPayload(ctx.catalog, NIGHTLY_JOB, job.data);
          return await withTimeout(
            ctx.catalog[NIGHTLY_JOB].timeoutMs,
            handleNightly(ctx.nightly, job, payload),
            timedOut,
          );
        }
        case EXPORT_DAY_JOB: {
          const payload = parseJobPayload(ctx.catalog, EXPORT_DAY_JOB, job.data);
          return await withTimeout(
            ctx.catalog[EXPORT_DAY_JOB].timeoutMs,
            handleExportDay(ctx.exportDay, job, token, payload),
            timedOut,
          );
        }
      }
    } catch (err) {
      throw forBullMq(err);
    }
  };
}

/** The try is abandoned, not cancelled: exportDay's advisory lock keeps the next try from running beside it. */
const timedOut = () => new JobTimeoutError('the try ran past its timeout');

function forBullMq(err: unknown): unknown {
  if (err instanceof DelayedError || err instanceof UnrecoverableError) return err;
  const e = err as { retryable?: unknown; code?: unknown; message?: unknown };
  if (e.retryable === false) {
    const message = typeof e.message === 'string' ? e.message : String(err);
    return new UnrecoverableError(typeof e.code === 'string' ? `${e.code}: ${message}` : message);
  }
  return err;
}
