import { randomBytes } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { type JobCatalog, jobOptions, parseJobPayload } from './catalog';
import { EXPORT_DAY_JOB, type ExportDayPayload } from './export-day';

export type ExportQueue = Queue<unknown, unknown, string>;

/**
 * - added: no job for the day existed.
 * - replaced: the day's last job had finished (completed or failed) and was replaced, so the
 *   next night retries a failed day and re-checks a delivered one.
 * - already-queued: the day's job is waiting, sleeping (completeness, backoff) or running; it
 *   is left alone: one job per day at a time.
 */
export type EnqueueStatus = 'added' | 'replaced' | 'already-queued';

export type EnqueueResult = { jobId: string; day: string; status: EnqueueStatus };

/** Another process held the day's enqueue lock for too long. Retryable: the nightly job retries. */
export class EnqueueBusyError extends Error {
  readonly code = 'EXPORT_ENQUEUE_BUSY';
  readonly retryable = true;
}

const LOCK_TTL_MS = 15000;
const LOCK_WAIT_MS = 20000;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/**
 * Queue day D's export under its deterministic job id. A finished job of D (kept for Bull
 * Board) is removed first, since BullMQ ignores an add whose id exists; a job that is not
 * finished is never touched. The look-then-remove-then-add runs under a short Redis lock per
 * day, so two exporters enqueueing D at once never remove each other's fresh job; and should
 * anything else race it, BullMQ still keeps one job per id, an active job cannot be removed
 * (it is locked by its worker) and exportDay takes an advisory lock per day.
 */
export async function enqueueDay(
  deps: { queue: ExportQueue; redis: Redis; catalog: JobCatalog },
  input: ExportDayPayload,
): Promise<EnqueueResult> {
  const payload = parseJobPayload(deps.catalog, EXPORT_DAY_JOB, input);
  const options = jobOptions(deps.catalog, EXPORT_DAY_JOB, payload);
  const jobId = options.jobId ?? '';
  return withDayLock(deps.redis, `${deps.queue.qualifiedName}:enqueue-lock:${jobId}`, async () => {
    let status: EnqueueStatus = 'added';
    const existing = await deps.queue.getJob(jobId);
    if (existing) {
      const state = await existing.getState();
      if (state === 'completed' || state === 'failed') {
        await existing.remove();
        status = 'replaced';
      } else if (state !== 'unknown') {
        return { jobId, day: payload.day, status: 'already-queued' };
      }
    }
    await deps.queue.add(EXPORT_DAY_JOB, payload, options);
    return { jobId, day: payload.day, status };
  });
}

async function withDayLock<T>(redis: Redis, key: string, work: () => Promise<T>): Promise<T> {
  const token = randomBytes(8).toString('hex');
  const giveUp = Date.now() + LOCK_WAIT_MS;
  while ((await redis.set(key, token, 'PX', LOCK_TTL_MS, 'NX')) !== 'OK') {
    if (Date.now() > giveUp)
      throw new EnqueueBusyError(`${key} held by another exporter for ${LOCK_WAIT_MS} ms`);
    await new Promise((r) => setTimeout(r, 25 + Math.random() * 50));
  }
  try {
    return await work();
  } finally {
    await redis.eval(RELEASE, 1, key, token);
  }
}
