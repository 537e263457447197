import { createDb } from '@boarding/db/client';
import { sftpTransportFromEnv } from '@boarding/delivery/sftp-transport';
import type { DeliveryTransport } from '@boarding/delivery/transport';
import type { Keyring } from '@boarding/encryption/keyring';
import { loadKeyring } from '@boarding/encryption/load-keyring';
import { exportSettings } from '@boarding/export/settings';
import type { ShutdownRegistry } from '@boarding/lifecycle/shutdown';
import type { Logger } from '@boarding/logger/logger';
import { createOpsServer, errorCode } from '@boarding/ops-http/ops-server';
import { type Job, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { mountBoard } from './board';
import type { ExporterEnv } from './env';
import { createJobCatalog, jobOptions, parseJobPayload } from './jobs/catalog';
import { type ExportQueue, enqueueDay } from './jobs/enqueue-day';
import {
  EXPORT_DAY_JOB,
  type ExportDayJobResult,
  type ExportDayPayload,
  exportDayJobId,
} from './jobs/export-day';
import { NIGHTLY_JOB, NIGHTLY_SCHEDULER_ID } from './jobs/nightly';
import { createProcessor } from './jobs/processor';
import { createExporterMetrics } from './metrics';
import { withTimeout } from './with-timeout';

/** Outbound dependencies and the clock, chosen by main.ts (real) or a test (twins, a fixed clock). */
export type ExporterDeps = {
  /** Default: the SFTP receiver SFTP_* describes, files into SFTP_REMOTE_DIR. */
  transport?: DeliveryTransport;
  /** Default: loadKeyring() (PII_KEY_FILE or PII_KEYS…). */
  keyring?: Keyring;
  /** The business clock (deadlines, manifest generatedAt). BullMQ's delays stay in real time. */
  now?: () => Date;
};

export type StartOptions = {
  /** Listen on EXPORTER_PORT: /healthz, /readyz, /metrics, /board. */
  http: boolean;
  /** Upsert the nightly job scheduler (every process may: it is one scheduler per queue). */
  scheduler: boolean;
  /** Run jobs. */
  worker: boolean;
};

export type DayJobOutcome =
  | { state: 'completed'; result: ExportDayJobResult }
  | { state: 'failed'; failedReason: string; attemptsMade: number };

// A check that does not answer in time counts as down: with Redis away, ioredis queues
// commands (BullMQ needs maxRetriesPerRequest: null) and a PING would wait forever.
const READY_TIMEOUT_MS = 2000;

/**
 * The exporter's parts, wired but not started: PostgreSQL pool, one Redis connection shared by
 * the queue and the worker (BullMQ duplicates it for its blocking reads), the job catalog, the
 * queue, metrics and the ops server (with Bull Board when EXPORTER_BOARD_TOKEN is set).
 *
 * Teardown (registered in reverse, so it runs in this order): worker (stop taking jobs, let the
 * running ones finish) → queue and its scheduler client → ops server → Redis → PostgreSQL pool.
 * The job scheduler itself lives in Redis and stays: other processes share it.
 */
export function createExporterService(
  env: ExporterEnv,
  logger: Logger,
  shutdown: ShutdownRegistry,
  deps: ExporterDeps = {},
) {
  // Each running export holds two connections (its advisory lock and the build's snapshot).
  const { pool } = createDb({ url: env.DATABASE_URL, pool: { max: env.EXPORTER_CONCURRENCY * 2 + 2 } });
  shutdown.register('postgres pool', () => pool.end());

  const redis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: null });
  // Without a listener ioredis prints every reconnect failure; the message names no secret.
  redis.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis connection error'));
  shutdown.register('redis', async () => {
    // QUIT is a command: with Redis away it would sit in ioredis's offline queue forever.
    if (redis.status !== 'ready') return redis.disconnect();
    await withTimeout(READY_TIMEOUT_MS, redis.quit(), () => new Error('QUIT unanswered')).catch(() =>
      redis.disconnect(),
    );
  });

  const catalog = createJobCatalog({
    attempts: env.EXPORT_JOB_ATTEMPTS,
    backoffMs: env.EXPORT_JOB_BACKOFF_MS,
    exportTimeoutMs: env.EXPORT_JOB_TIMEOUT_MS,
  });
  const queue: ExportQueue = new Queue(env.EXPORT_QUEUE, {
    connection: redis,
    prefix: env.EXPORT_QUEUE_PREFIX,
  });
  queue.on('error', (err: Error) => logger.error({ err: err.message }, 'queue error'));

  const metrics = createExporterMetrics({
    failingDays: () =>
      withTimeout(READY_TIMEOUT_MS, countFailingDays(queue), () => new Error('redis did not answer')),
  });
  const ops = createOpsServer({
    registry: metrics.registry,
    ready: async () => {
      const timedOut = () =>
        Object.assign(new Error(`no answer within ${READY_TIMEOUT_MS} ms`), { code: 'TIMEOUT' });
      const [postgres, redisPing] = await Promise.allSettled([
        withTimeout(READY_TIMEOUT_MS, pool.query('select 1'), timedOut),
        withTimeout(READY_TIMEOUT_MS, redis.ping(), timedOut),
      ]);
      // A code only, never the error's text (it can name hosts, users, connection strings).
      const state = (r: PromiseSettledResult<unknown>) =>
        r.status === 'fulfilled' ? 'ok' : errorCode(r.reason);
      return {
        ready: postgres.status === 'fulfilled' && redisPing.status === 'fulfilled',
        detail: { postgres: state(postgres), redis: state(redisPing) },
      };
    },
  });
  if (env.EXPORTER_BOARD_TOKEN !== undefined) {
    mountBoard(ops, queue, env.EXPORTER_BOARD_TOKEN, { write: env.EXPORTER_BOARD_WRITE });
  }
  shutdown.register('ops server', () => ops.close());
  shutdown.register('queue', async () => {
    // With Redis never reached there is nothing to flush, and BullMQ's close() would drop the
    // listeners of a connection still trying to connect, whose failure then surfaces as an
    // unhandled 'error' when the Redis connection is closed next.
    if (redis.status === 'ready') await queue.close();
  });

  const transport = deps.transport ?? sftpTransportFromEnv(env);
  const keyring = deps.keyring ?? loadKeyring();
  const now = deps.now ?? (() => new Date());
  const enqueue = (payload: ExportDayPayload) => enqueueDay({ queue, redis, catalog }, payload);
  const processor = createProcessor({
    catalog,
    nightly: {
      logger,
      timeZone: env.EXPORT_TZ,
      deadline: env.EXPORT_DEADLINE,
      lateWindowDays: env.LATE_WINDOW_DAYS,
      enqueueDay: enqueue,
    },
    exportDay: {
      pool,
      keyring,
      settings: exportSettings(env),
      transport,
      logger,
      now,
      metrics,
      recheckMs: Math.round(env.EXPORT_RECHECK_MINUTES * 60000),
    },
  });

  function onFailed(job: Job | undefined, err: Error): void {
    if (!job) return;
    // Same rule as BullMQ's own retry decision (Job.shouldRetryJob), read after the try counted.
    const final = err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
    metrics.jobs.inc({ name: job.name, status: final ? 'failed' : 'retrying' });
    if (!final) {
      logger.warn(
        { job: job.name, jobId: job.id, attemptsMade: job.attemptsMade, reason: err.message },
        'job try failed: retrying with backoff',
      );
      return;
    }
    metrics.alerts.inc({ job: job.name });
    const day = (job.data as { day?: unknown } | undefined)?.day;
    logger.error(
      {
        alert: true,
        job: job.name,
        jobId: job.id,
        day: typeof day === 'string' ? day : undefined,
        attemptsMade: job.attemptsMade,
        reason: err.message,
      },
      job.name === EXPORT_DAY_JOB
        ? `export of ${typeof day === 'string' ? day : 'a day'} failed for good: ${err.message}; it is retried next night`
        : `nightly export planning failed for good: ${err.message}`,
    );
  }

  /**
   * Create or update the nightly job scheduler (EXPORT_CRON in EXPORT_TZ) and return the delayed
   * job it holds for the next firing. Every process may call it: the id is fixed, so there is
   * one scheduler and one job per firing time.
   */
  async function scheduleNightly(): Promise<Job | undefined> {
    const data = parseJobPayload(catalog, NIGHTLY_JOB, {});
    try {
      return await queue.upsertJobScheduler(
        NIGHTLY_SCHEDULER_ID,
        { pattern: env.EXPORT_CRON, tz: env.EXPORT_TZ },
        { name: NIGHTLY_JOB, data, opts: jobOptions(catalog, NIGHTLY_JOB, data) },
      );
    } catch (err) {
      // Another process's upsert, or tonight's job already running or finished, owns the
      // slot; the scheduler exists and the worker schedules the next night after this one.
      const existing = await queue.getJobScheduler(NIGHTLY_SCHEDULER_ID);
      if (existing?.pattern !== env.EXPORT_CRON || existing.tz !== env.EXPORT_TZ) throw err;
      logger.warn({ err: (err as Error).message }, 'nightly scheduler already in place');
      return undefined;
    }
  }

  let worker: Worker<unknown, unknown, string> | undefined;

  return {
    queue,
    metrics,
    /** The ops server (fastify, not listening until start({ http: true })): tests inject into it. */
    ops,
    catalog,

    /** Queue day D's export (one job per day; see enqueueDay). The payload is validated here. */
    enqueueDay: enqueue,

    /**
     * Wait until day D's job exists and has finished, polling its state (a sleeping job is not
     * finished). Rejects after timeoutMs (default 60 s).
     */
    async waitForDay(
      day: string,
      options: { timeoutMs?: number; pollMs?: number } = {},
    ): Promise<DayJobOutcome> {
      const timeoutMs = options.timeoutMs ?? 60000;
      const giveUp = Date.now() + timeoutMs;
      const id = exportDayJobId(day);
      for (;;) {
        // The state first, then the job: a job read first and finished in between would show
        // 'completed' with the return value it did not have yet when read (null).
        const state = await queue.getJobState(id);
        const job = state === 'completed' || state === 'failed' ? await queue.getJob(id) : undefined;
        if (job && state === 'completed') return { state, result: job.returnvalue as ExportDayJobResult };
        if (job && state === 'failed') {
          return { state, failedReason: job.failedReason, attemptsMade: job.attemptsMade };
        }
        if (Date.now() > giveUp)
          throw new Error(`export job for ${day} still ${state} after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, options.pollMs ?? 100));
      }
    },

    scheduleNightly,

    async start(options: StartOptions): Promise<void> {
      if (options.http) await ops.listen({ host: env.EXPORTER_HOST, port: env.EXPORTER_PORT });
      if (options.scheduler) await scheduleNightly();
      if (options.worker) {
        const w = new Worker<unknown, unknown, string>(env.EXPORT_QUEUE, processor, {
          connection: redis,
          prefix: env.EXPORT_QUEUE_PREFIX,
          concurrency: env.EXPORTER_CONCURRENCY,
        });
        worker = w;
        w.on('completed', (job) => metrics.jobs.inc({ name: job.name, status: 'completed' }));
        w.on('failed', onFailed);
        w.on('error', (err: Error) => logger.error({ err: err.message }, 'worker error'));
        shutdown.register('worker', () => w.close());
        await w.waitUntilReady();
      }
      logger.info(
        {
          queue: env.EXPORT_QUEUE,
          cron: env.EXPORT_CRON,
          tz: env.EXPORT_TZ,
          deadline: env.EXPORT_DEADLINE,
          lateWindowDays: env.LATE_WINDOW_DAYS,
          ...options,
          board: env.EXPORTER_BOARD_TOKEN !== undefined,
        },
        'exporter started',
      );
    },

    /** The worker once started (tests pause or inspect it). */
    get worker(): Worker<unknown, unknown, string> | undefined {
      return worker;
    },
  };
}

export type ExporterService = ReturnType<typeof createExporterService>;

/** Days whose latest export job failed for good: their failed jobs still in the queue. */
async function countFailingDays(queue: ExportQueue): Promise<number> {
  const failed = await queue.getFailed(0, 999);
  return new Set(failed.filter((j) => j.name === EXPORT_DAY_JOB).map((j) => j.id)).size;
}
