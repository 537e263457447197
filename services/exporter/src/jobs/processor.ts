import { withTimeout } from '@boarding/lifecycle/time-limit';
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import { isJobName, type JobCatalog, parseJobPayload } from './catalog';
import { EXPORT_DAY_JOB } from './export-day';
import { type ExportDayHandlerContext, handleExportDay } from './export-day.handler';
import { NIGHTLY_JOB } from './nightly';
import { handleNightly, type NightlyHandlerContext } from './nightly.handler';
import { RETENTION_JOB } from './retention';
import { handleRetention, type RetentionHandlerContext } from './retention.handler';

/** A try ran past its catalog timeout. Retryable: the next try may find the receiver back. */
export class JobTimeoutError extends Error {
  readonly code = 'JOB_TIMEOUT';
  readonly retryable = true;
}

export type ProcessorContext = {
  catalog: JobCatalog;
  nightly: NightlyHandlerContext;
  exportDay: ExportDayHandlerContext;
  retention: RetentionHandlerContext;
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
          return await stoppedAtTimeout(ctx.catalog[EXPORT_DAY_JOB].timeoutMs, (signal) =>
            handleExportDay(ctx.exportDay, job, token, payload, signal),
          );
        }
        case RETENTION_JOB: {
          parseJobPayload(ctx.catalog, RETENTION_JOB, job.data);
          return await withTimeout(
            ctx.catalog[RETENTION_JOB].timeoutMs,
            handleRetention(ctx.retention),
            timedOut,
          );
        }
      }
    } catch (err) {
      throw forBullMq(err);
    }
  };
}

const timedOut = () => new JobTimeoutError('the try ran past its timeout');

/** How long a try that ran past its timeout is given to close its connections once told to stop. */
const STOP_GRACE_MS = 15_000;

/**
 * Run `work` with a time limit that really stops it: past `ms` the signal aborts (the delivery's
 * SFTP connection and the day lock's wait are closed at once), and the try ends only once the
 * work has given up (or after STOP_GRACE_MS), so the next try never runs beside the stuck one.
 */
async function stoppedAtTimeout<T>(ms: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const running = work(controller.signal);
  try {
    return await withTimeout(ms, running, timedOut);
  } catch (err) {
    if (err instanceof JobTimeoutError) {
      controller.abort(err);
      await withTimeout(STOP_GRACE_MS, running, timedOut).catch(() => undefined);
    }
    throw err;
  }
}

function forBullMq(err: unknown): unknown {
  if (err instanceof DelayedError || err instanceof UnrecoverableError) return err;
  const e = err as { retryable?: unknown; code?: unknown; message?: unknown };
  if (e.retryable === false) {
    const message = typeof e.message === 'string' ? e.message : String(err);
    return new UnrecoverableError(typeof e.code === 'string' ? `${e.code}: ${message}` : message);
  }
  return err;
}
