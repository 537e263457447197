import type { HesVerifier } from '@boarding/hes/verifier';
import { withTimeout } from '@boarding/lifecycle/time-limit';
import type { Logger } from '@boarding/logger/logger';
import type { RegistryContext } from '@boarding/registry/context';
import { refreshHesStatuses } from '@boarding/registry/verbs/refresh-hes-statuses';
import type { StatusRelayMetrics } from '@boarding/status-feed/relay-metrics';
import { type Job, UnrecoverableError } from 'bullmq';
import { HES_REFRESH_JOB, type HesRefreshJobResult, parseHesRefreshPayload } from './hes-refresh-job';

export type HesRefreshHandlerContext = {
  ctx: RegistryContext;
  hes: Pick<HesVerifier, 'statuses'>;
  batchSize: number;
  timeoutMs: number;
  logger: Logger;
  metrics: StatusRelayMetrics;
};

/** A try ran past HES_REFRESH_TIMEOUT_MS. Retryable: the next try may find the service quicker. */
export class JobTimeoutError extends Error {
  readonly code = 'JOB_TIMEOUT';
  readonly retryable = true;
}

/** How long a try past its timeout is given to give up (its HES request is aborted at once). */
const STOP_GRACE_MS = 15_000;

// Mismatches named per batch in the log; the rest are counted.
const MISMATCHES_LOGGED = 20;

/**
 * The worker's processor: the payload validated on dequeue, the refresh run with a time limit that
 * really stops it (the signal aborts the HES request in flight and the loop between batches), and
 * the one place errors are mapped for BullMQ: `retryable: false` (a refused request, a bad
 * payload) fails the job at once instead of spending its tries.
 */
export function createHesRefreshProcessor(context: HesRefreshHandlerContext) {
  const { logger, metrics } = context;
  return async (job: Job<unknown, unknown, string>): Promise<HesRefreshJobResult> => {
    try {
      if (job.name !== HES_REFRESH_JOB) {
        throw new UnrecoverableError(`unknown job name ${JSON.stringify(job.name)}`);
      }
      const payload = parseHesRefreshPayload(job.data);
      const started = Date.now();
      const controller = new AbortController();
      const running = refreshHesStatuses({
        ctx: context.ctx,
        hes: context.hes,
        input: { batchSize: context.batchSize },
        signal: controller.signal,
        onProgress: (p) => {
          logger.debug(
            { jobId: job.id, batches: p.batches, checked: p.checked, changed: p.changed },
            'HES refresh batch done',
          );
          if (p.batchMismatches.length > 0) {
            // Masked (KVKK): the person should give the registry their current HES code.
            logger.warn(
              {
                jobId: job.id,
                mismatches: p.batchMismatches.slice(0, MISMATCHES_LOGGED),
                more: Math.max(0, p.batchMismatches.length - MISMATCHES_LOGGED),
              },
              'HES refresh: codes that no longer belong to their TC (status left as it was)',
            );
          }
        },
      });
      let result: HesRefreshJobResult;
      try {
        result = await withTimeout(context.timeoutMs, running, timedOut);
      } catch (err) {
        if (err instanceof JobTimeoutError) {
          controller.abort(err);
          await withTimeout(STOP_GRACE_MS, running, timedOut).catch(() => undefined);
        }
        throw err;
      }
      metrics.refreshChecked.inc(result.checked);
      metrics.refreshChanged.inc(result.changed);
      metrics.refreshMismatched.inc(result.mismatched);
      metrics.refreshLastSuccess.set(Date.now() / 1000);
      logger.info(
        { jobId: job.id, trigger: payload.trigger, ...result, ms: Date.now() - started },
        'HES status refresh done',
      );
      return result;
    } catch (err) {
      throw forBullMq(err);
    }
  };
}

const timedOut = () => new JobTimeoutError('the HES refresh ran past HES_REFRESH_TIMEOUT_MS');

function forBullMq(err: unknown): unknown {
  if (err instanceof UnrecoverableError) return err;
  const e = err as { retryable?: unknown; code?: unknown; message?: unknown };
  if (e.retryable === false) {
    const message = typeof e.message === 'string' ? e.message : String(err);
    return new UnrecoverableError(typeof e.code === 'string' ? `${e.code}: ${message}` : message);
  }
  return err;
}
