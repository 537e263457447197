import { serviceDayStartMs } from '@boarding/contracts/time';
import { createDb } from '@boarding/db/client';
import { sftpTransportFromEnv } from '@boarding/delivery/sftp-transport';
import type { DeliveryTransport } from '@boarding/delivery/transport';
import type { Keyring } from '@boarding/encryption/keyring';
import { loadKeyring } from '@boarding/encryption/load-keyring';
import type { IngestBehind } from '@boarding/export/manifest';
import { exportSettings } from '@boarding/export/settings';
import { createIngestBehindReader } from '@boarding/ingest/lag-before';
import type { ShutdownRegistry } from '@boarding/lifecycle/shutdown';
import { withTimeout } from '@boarding/lifecycle/time-limit';
import type { Logger } from '@boarding/logger/logger';
import { createOpsServer, errorCode } from '@boarding/ops-http/ops-server';
import { createQueueConnection } from '@boarding/redis/queue-connection';
import { lastCompletedRetention } from '@boarding/retention/last-run';
import { retentionSettings } from '@boarding/retention/settings';
import { type Job, Queue, Worker } from 'bullmq';
import type { Pool } from 'pg';
import { BOARD_PATH, mountBoard } from './board';
import { mountDayPages } from './day-pages/day-pages';
import type { ExporterEnv } from './env';
import { createJobCatalog, jobOptions, parseJobPayload } from './jobs/catalog';
import { type ExportQueue, enqueueDay } from './jobs/enqueue-day';
import {
  EXPORT_DAY_JOB,
  type ExportDayJobResult,
  type ExportDayPayload,
  exportDayJobId,
} from './jobs/export-day';
import { missedNights } from './jobs/missed-nights';
import { catchUpJobId, NIGHTLY_JOB, NIGHTLY_SCHEDULER_ID } from './jobs/nightly';
import { lastNightlyRun } from './jobs/nightly-runs';
import { createProcessor } from './jobs/processor';
import { RETENTION_JOB, RETENTION_QUEUE_SUFFIX, RETENTION_SCHEDULER_ID } from './jobs/retention';
import { createExporterMetrics } from './metrics';

/** Outbound dependencies and the clock, chosen by main.ts (real) or a test (twins, a fixed clock). */

/** A day page's statements (a month of validator_days, a day's taps per 10 minutes) end within this. */
const DAY_PAGE_STATEMENT_MS = 15_000;
export type ExporterDeps = {
  /** Default: the SFTP receiver SFTP_* describes, files into SFTP_REMOTE_DIR. */
  transport?: DeliveryTransport;
  /** Default: loadKeyring() (PII_KEY_FILE or PII_KEYS…). */
  keyring?: Keyring;
  /** The business clock (deadlines, manifest generatedAt). BullMQ's delays stay in real time. */
  now?: () => Date;
  /**
   * Default: the lag of INGEST_GROUP_ID on KAFKA_TAPS_TOPIC of the messages stamped before the end
   * of D plus 10 minutes, read with a Kafka admin client (SPEC §5's ingest gate).
   */
  ingestBehind?: (day: string) => Promise<IngestBehind>;
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

  const redis = createQueueConnection(env.REDIS_URL, logger, shutdown);

  const catalog = createJobCatalog({
    attempts: env.EXPORT_JOB_ATTEMPTS,
    backoffMs: env.EXPORT_JOB_BACKOFF_MS,
    exportTimeoutMs: env.EXPORT_JOB_TIMEOUT_MS,
  });
  const queue: ExportQueue = new Queue(env.EXPORT_QUEUE, {
    connection: redis,
    prefix: env.EXPORT_QUEUE_PREFIX,
  });
  queue.on('error', (err: Error) => logRedisError(logger, err, 'queue error'));
  // SPEC §11's nightly retention job, on a queue of its own (see jobs/retention.ts).
  const retentionQueue = new Queue(`${env.EXPORT_QUEUE}${RETENTION_QUEUE_SUFFIX}`, {
    connection: redis,
    prefix: env.EXPORT_QUEUE_PREFIX,
  });
  retentionQueue.on('error', (err: Error) => logRedisError(logger, err, 'retention queue error'));

  const metrics = createExporterMetrics({
    failingDays: () =>
      withTimeout(READY_TIMEOUT_MS, countFailingDays(queue), () => new Error('redis did not answer')),
    lastNightlyDay: () =>
      withTimeout(READY_TIMEOUT_MS, lastNightlyDayStart(pool), () => new Error('postgres did not answer')),
    lastRetention: () =>
      withTimeout(READY_TIMEOUT_MS, lastCompletedRetention(pool), () => new Error('postgres did not answer')),
  });
  const ops = createOpsServer({
    registry: metrics.registry,
    // BullMQ's own queue counts (bullmq_job_count{queue,state}) beside ours. Not asked while Redis
    // is away: ioredis would queue the commands until it is back, one more set per scrape.
    extraMetrics: () =>
      redis.status === 'ready'
        ? queue.exportPrometheusMetrics()
        : Promise.reject(Object.assign(new Error('redis not connected'), { code: 'REDIS_NOT_READY' })),
    extraMetricsTimeoutMs: READY_TIMEOUT_MS,
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
    // Day-status pages (/days, /days/D) behind the same token, linking to the board's jobs. Their
    // own two connections, each statement bounded: a page reload loop or a slow server can neither
    // take the exports' connections nor hold a request open without end.
    const pages = createDb({
      url: env.DATABASE_URL,
      pool: {
        max: 2,
        statement_timeout: DAY_PAGE_STATEMENT_MS,
        query_timeout: DAY_PAGE_STATEMENT_MS + 5_000,
      },
    });
    shutdown.register('day pages postgres pool', () => pages.pool.end());
    mountDayPages(ops, {
      pool: pages.pool,
      token: env.EXPORTER_BOARD_TOKEN,
      boardPath: BOARD_PATH,
      queueName: env.EXPORT_QUEUE,
      silentAlertRatio: env.EXPORT_SILENT_ALERT_RATIO,
      now: deps.now ?? (() => new Date()),
      logger,
    });
  }
  shutdown.register('ops server', () => ops.close());
  shutdown.register('queue', async () => {
    // With Redis never reached there is nothing to flush, and BullMQ's close() would drop the
    // listeners of a connection still trying to connect, whose failure then surfaces as an
    // unhandled 'error' when the Redis connection is closed next.
    if (redis.status === 'ready') await Promise.all([queue.close(), retentionQueue.close()]);
  });

  const ingestBehind = deps.ingestBehind ?? kafkaIngestBehind(env, logger, shutdown);
  const transport = deps.transport ?? sftpTransportFromEnv(env);
  const keyring = deps.keyring ?? loadKeyring();
  const now = deps.now ?? (() => new Date());
  const settings = exportSettings(env);
  const enqueue = (payload: ExportDayPayload) => enqueueDay({ queue, redis, catalog }, payload);
  const processor = createProcessor({
    catalog,
    nightly: {
      pool,
      logger,
      timeZone: env.EXPORT_TZ,
      deadline: env.EXPORT_DEADLINE,
      lateWindowDays: env.LATE_WINDOW_DAYS,
      enqueueDay: enqueue,
    },
    exportDay: {
      pool,
      keyring,
      settings,
      transport,
      logger,
      now,
      metrics,
      recheckMs: Math.round(env.EXPORT_RECHECK_MINUTES * 60000),
      ingestBehind,
      silentAlertRatio: env.EXPORT_SILENT_ALERT_RATIO,
    },
    retention: { pool, logger, exportDir: settings.outDir, settings: retentionSettings(env), now },
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
    metrics.alerts.inc({ name: job.name });
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
        : job.name === RETENTION_JOB
          ? `retention run failed for good: ${err.message}; it runs again next night`
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

  /** Create or update the retention job scheduler (RETENTION_CRON in EXPORT_TZ); one per deployment. */
  async function scheduleRetention(): Promise<void> {
    const data = parseJobPayload(catalog, RETENTION_JOB, {});
    try {
      await retentionQueue.upsertJobScheduler(
        RETENTION_SCHEDULER_ID,
        { pattern: env.RETENTION_CRON, tz: env.EXPORT_TZ },
        { name: RETENTION_JOB, data, opts: jobOptions(catalog, RETENTION_JOB, data) },
      );
    } catch (err) {
      // As for the nightly scheduler: another process's upsert owns the slot.
      const existing = await retentionQueue.getJobScheduler(RETENTION_SCHEDULER_ID);
      if (existing?.pattern !== env.RETENTION_CRON || existing.tz !== env.EXPORT_TZ) throw err;
    }
  }

  /**
   * SPEC §5: queue every nightly firing missed since the last one recorded in PostgreSQL (the
   * exporter was down, or Redis lost the scheduler), oldest first, up to LATE_WINDOW_DAYS back.
   * One job id per firing, so exporters starting together queue each missed night once.
   */
  async function catchUpMissedNights(): Promise<Date[]> {
    const missed = missedNights({
      cron: env.EXPORT_CRON,
      timeZone: env.EXPORT_TZ,
      lastRecorded: await lastNightlyRun(pool),
      now: now(),
      lateWindowDays: env.LATE_WINDOW_DAYS,
    });
    if (missed.tooOld.length > 0) {
      logger.warn(
        { missed: missed.tooOld.map((d) => d.toISOString()), lateWindowDays: env.LATE_WINDOW_DAYS },
        'nightly firings missed beyond the late window are not run: export their days by hand (boarding export run --day D)',
      );
    }
    for (const firedAt of missed.run) {
      const data = parseJobPayload(catalog, NIGHTLY_JOB, { firedAt: firedAt.toISOString() });
      await queue.add(NIGHTLY_JOB, data, {
        ...jobOptions(catalog, NIGHTLY_JOB, data),
        jobId: catchUpJobId(firedAt),
      });
      metrics.missedNights.inc();
    }
    if (missed.run.length > 0) {
      logger.warn(
        { firings: missed.run.map((d) => d.toISOString()) },
        `${missed.run.length} nightly firing(s) missed: running them now, oldest first`,
      );
    }
    return missed.run;
  }

  /**
   * The job scheduler lives in Redis: a Redis that lost its data (restarted without persistence,
   * flushed) has none, and no night would fire until a restart. Looked at every
   * EXPORT_SCHEDULER_CHECK_SECONDS; re-created when gone, the nights it missed caught up.
   */
  async function checkRetentionScheduler(): Promise<void> {
    if (!(await retentionQueue.getJobScheduler(RETENTION_SCHEDULER_ID))) await scheduleRetention();
  }

  async function checkScheduler(): Promise<'present' | 'recreated'> {
    // The nightly export's scheduler first: a retention scheduler that cannot be re-created must
    // never keep the Ministry's file from being scheduled. A missed retention night needs no
    // catch-up: the next run deletes whatever is past its age.
    await checkRetentionScheduler().catch((err: Error) =>
      logger.error({ alert: true, err: err.message }, 'the retention job scheduler could not be re-created'),
    );
    if (await queue.getJobScheduler(NIGHTLY_SCHEDULER_ID)) return 'present';
    await scheduleNightly();
    metrics.schedulerRecreated.inc();
    logger.error(
      { alert: true, scheduler: NIGHTLY_SCHEDULER_ID },
      'the nightly job scheduler was missing in Redis (Redis lost its data?): re-created',
    );
    await catchUpMissedNights();
    return 'recreated';
  }

  let worker: Worker<unknown, unknown, string> | undefined;

  return {
    queue,
    retentionQueue,
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
    catchUpMissedNights,
    checkScheduler,
    scheduleRetention,

    async start(options: StartOptions): Promise<void> {
      if (options.http) await ops.listen({ host: env.EXPORTER_HOST, port: env.EXPORTER_PORT });
      if (options.scheduler) {
        await scheduleNightly();
        await scheduleRetention();
        await catchUpMissedNights();
        const timer = setInterval(() => {
          checkScheduler().catch((err: Error) =>
            logger.warn({ err: err.message }, 'nightly scheduler check failed: trying again later'),
          );
        }, env.EXPORT_SCHEDULER_CHECK_SECONDS * 1000);
        timer.unref();
        shutdown.register('scheduler check', async () => clearInterval(timer));
      }
      if (options.worker) {
        const w = new Worker<unknown, unknown, string>(env.EXPORT_QUEUE, processor, {
          connection: redis,
          prefix: env.EXPORT_QUEUE_PREFIX,
          concurrency: env.EXPORTER_CONCURRENCY,
        });
        worker = w;
        w.on('completed', (job) => metrics.jobs.inc({ name: job.name, status: 'completed' }));
        w.on('failed', onFailed);
        w.on('error', (err: Error) => logRedisError(logger, err, 'worker error'));
        shutdown.register('worker', () => w.close());
        // One retention run at a time is all there can be (runRetention's lock).
        const r = new Worker<unknown, unknown, string>(retentionQueue.name, processor, {
          connection: redis,
          prefix: env.EXPORT_QUEUE_PREFIX,
          concurrency: 1,
        });
        r.on('completed', (job) => metrics.jobs.inc({ name: job.name, status: 'completed' }));
        r.on('failed', onFailed);
        r.on('error', (err: Error) => logRedisError(logger, err, 'retention worker error'));
        shutdown.register('retention worker', () => r.close());
        await Promise.all([w.waitUntilReady(), r.waitUntilReady()]);
      }
      logger.info(
        {
          queue: env.EXPORT_QUEUE,
          cron: env.EXPORT_CRON,
          retentionCron: env.RETENTION_CRON,
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

// Redis away for a moment (a restart, a failover): ioredis reconnects by itself and BullMQ carries
// on; a line per failed command at error level would page on every restart.
const CONNECTION_LOST = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|Connection is closed|connect ETIMEDOUT/;

function logRedisError(logger: Logger, err: Error, what: string): void {
  const code = (err as { code?: unknown }).code;
  if (CONNECTION_LOST.test(`${typeof code === 'string' ? code : ''} ${err.message}`)) {
    logger.warn({ err: err.message }, `${what}: Redis connection lost, reconnecting`);
  } else {
    logger.error({ err: err.message }, what);
  }
}

/** The ingest gate's reading (SPEC §5), its Kafka connection closed at shutdown. */
function kafkaIngestBehind(
  env: ExporterEnv,
  logger: Logger,
  shutdown: ShutdownRegistry,
): (day: string) => Promise<IngestBehind> {
  const reader = createIngestBehindReader({
    brokers: env.KAFKA_BROKERS,
    clientId: `${env.KAFKA_CLIENT_ID}-exporter`,
    groupId: env.INGEST_GROUP_ID,
    topic: env.KAFKA_TAPS_TOPIC,
    logger,
  });
  shutdown.register('kafka admin', reader.close);
  return reader.read;
}

/**
 * 00:00 Istanbul (Unix s) of the latest day whose nightly export ended well, from the ledger: a
 * nightly attempt DELIVERED, or UNCHANGED (that day's file was already there). Late-window
 * re-checks never count: they succeed even while D−1 fails.
 */
async function lastNightlyDayStart(pool: Pool): Promise<number | null> {
  const { rows } = await pool.query<{ day: string | null }>(
    `select to_char(max(service_day), 'YYYY-MM-DD') as day from delivery_attempts
     where trigger in ('nightly', 'nightly+force') and outcome in ('DELIVERED', 'UNCHANGED')`,
  );
  const day = rows[0]?.day;
  return day ? serviceDayStartMs(day) / 1000 : null;
}

/** Days whose latest export job failed for good: their failed jobs still in the queue. */
async function countFailingDays(queue: ExportQueue): Promise<number> {
  const failed = await queue.getFailed(0, 999);
  return new Set(failed.filter((j) => j.name === EXPORT_DAY_JOB).map((j) => j.id)).size;
}
