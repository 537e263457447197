import { createDb } from '@boarding/db/client';
import type { Keyring } from '@boarding/encryption/keyring';
import type { HesVerifier } from '@boarding/hes/verifier';
import type { ShutdownRegistry } from '@boarding/lifecycle/shutdown';
import { withTimeout } from '@boarding/lifecycle/time-limit';
import type { Logger } from '@boarding/logger/logger';
import { createOpsServer, errorCode } from '@boarding/ops-http/ops-server';
import { createQueueConnection } from '@boarding/redis/queue-connection';
import { outboxLag } from '@boarding/status-feed/outbox';
import { createStatusRelayMetrics } from '@boarding/status-feed/relay-metrics';
import { createStatusPublisher } from '@boarding/status-feed/status-publisher';
import { type Job, Queue, Worker } from 'bullmq';
import type { StatusRelayEnv } from './env';
import {
  HES_REFRESH_JOB,
  HES_REFRESH_JOB_OPTIONS,
  HES_REFRESH_SCHEDULER_ID,
  type HesRefreshJobResult,
  manualRefreshJobId,
  parseHesRefreshPayload,
} from './hes-refresh-job';
import { createHesRefreshProcessor } from './hes-refresh-job.handler';

/** Outbound dependencies and the clock, chosen by main.ts (real) or a test (twins). */
export type StatusRelayClients = {
  keyring: Keyring;
  /** The HES client (main.ts) or the in-memory twin (tests). */
  hes: Pick<HesVerifier, 'statuses'>;
  /** The clock of the refresh ("live now"); BullMQ's schedule stays in real time. */
  now?: () => Date;
};

export type RefreshJobOutcome =
  | { state: 'completed'; result: HesRefreshJobResult }
  | { state: 'failed'; failedReason: string; attemptsMade: number };

// A check that does not answer in time counts as down: with Redis away, ioredis queues commands
// (BullMQ needs maxRetriesPerRequest: null) and a PING would wait forever; kafkajs retries too.
const READY_TIMEOUT_MS = 2000;

/** Who the refresh's audit rows name. */
const REFRESH_ACTOR = { id: 'hes-refresh', channel: 'ADMIN' } as const;

/**
 * `boarding serve status-relay` (SPEC §10): the outbox relay that publishes every committed card
 * status change to the compacted topic, and the scheduled HES status refresh whose changes the
 * relay then publishes. Wired here, not started: PostgreSQL pool, Kafka admin and idempotent
 * producer, one Redis connection for the refresh queue and worker, metrics and the ops server.
 *
 * Teardown (registered in reverse, so it runs in this order): the worker (no new refresh; the one
 * running finishes or is cut at the registry's deadline) → the queue → the ops server → the relay
 * (stops the loop after the batch in flight, releases its advisory lock, so a standby takes over),
 * then the Kafka producer (its last batch acknowledged first) and admin → Redis → the PostgreSQL
 * pool. The job scheduler itself lives in Redis and stays: other
 * processes share it.
 */
export function createStatusRelayService(
  env: StatusRelayEnv,
  logger: Logger,
  shutdown: ShutdownRegistry,
  clients: StatusRelayClients,
) {
  // The relay's lock connection and its drain, the refresh's read and transaction, checks.
  // No query waits without end: a server that stops answering fails the batch (retried), never
  // stalls the relay or its stop().
  const { db, pool } = createDb({
    url: env.DATABASE_URL,
    pool: { max: 6, statement_timeout: 60_000, query_timeout: 90_000 },
  });
  shutdown.register('postgres pool', () => pool.end());

  const redis = createQueueConnection(env.REDIS_URL, logger, shutdown);

  const metrics = createStatusRelayMetrics({
    outboxLag: () => withTimeout(READY_TIMEOUT_MS, outboxLag(db), () => new Error('postgres did not answer')),
  });

  const publisher = createStatusPublisher({
    pool,
    db,
    brokers: env.KAFKA_BROKERS,
    clientId: `${env.KAFKA_CLIENT_ID}-status-relay`,
    logger,
    topic: env.STATUS_TOPIC,
    partitions: env.STATUS_TOPIC_PARTITIONS,
    onPublished: (rows) => metrics.published.inc(rows),
  });
  const { relay, admin } = publisher;
  // The relay (its last batch acknowledged first), then the producer and admin.
  shutdown.register('status relay and kafka clients', () => publisher.stop());

  const queue = new Queue<unknown, unknown, string>(env.STATUS_RELAY_QUEUE, {
    connection: redis,
    prefix: env.STATUS_RELAY_QUEUE_PREFIX,
  });
  queue.on('error', (err: Error) => logger.warn({ err: err.message }, 'refresh queue error'));

  const ops = createOpsServer({
    registry: metrics.registry,
    ready: async () => {
      const timedOut = () =>
        Object.assign(new Error(`no answer within ${READY_TIMEOUT_MS} ms`), { code: 'TIMEOUT' });
      const [postgres, kafkaCluster, redisPing] = await Promise.allSettled([
        withTimeout(READY_TIMEOUT_MS, pool.query('select 1'), timedOut),
        withTimeout(READY_TIMEOUT_MS, admin.describeCluster(), timedOut),
        withTimeout(READY_TIMEOUT_MS, redis.ping(), timedOut),
      ]);
      // A code only, never the error's text (it can name hosts, users, connection strings).
      const state = (r: PromiseSettledResult<unknown>) =>
        r.status === 'fulfilled' ? 'ok' : errorCode(r.reason);
      return {
        ready: [postgres, kafkaCluster, redisPing].every((r) => r.status === 'fulfilled'),
        detail: {
          postgres: state(postgres),
          kafka: state(kafkaCluster),
          redis: state(redisPing),
          // A standby (another relay holds the lock) is ready: it takes over when that one stops.
          relay: relay.active ? 'active' : 'standby',
        },
      };
    },
  });
  shutdown.register('ops server', () => ops.close());
  shutdown.register('refresh queue', async () => {
    // With Redis never reached there is nothing to flush (see the exporter: closing a queue
    // whose connection is still trying would surface its failure as an unhandled 'error').
    if (redis.status === 'ready') await queue.close();
  });

  const processor = createHesRefreshProcessor({
    ctx: { db, keyring: clients.keyring, actor: REFRESH_ACTOR, now: clients.now },
    hes: clients.hes,
    batchSize: env.HES_REFRESH_BATCH_SIZE,
    timeoutMs: env.HES_REFRESH_TIMEOUT_MS,
    logger,
    metrics,
  });

  function onFailed(job: Job | undefined, err: Error): void {
    if (!job) return;
    // Same rule as BullMQ's own retry decision, read after the try counted.
    const final = err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
    metrics.refreshRuns.inc({ outcome: final ? 'failed' : 'retrying' });
    const fields = { job: job.name, jobId: job.id, attemptsMade: job.attemptsMade, reason: err.message };
    if (final) {
      logger.error(
        { alert: true, ...fields },
        'HES status refresh failed for good; the next firing tries again',
      );
    } else {
      logger.warn(fields, 'HES status refresh try failed: retrying with backoff');
    }
  }

  /**
   * Create or update the refresh's job scheduler. Every process may: the id is fixed, so there is
   * one scheduler and one job per firing.
   */
  async function scheduleRefresh(): Promise<void> {
    const data = parseHesRefreshPayload({ trigger: 'scheduled' });
    try {
      await queue.upsertJobScheduler(
        HES_REFRESH_SCHEDULER_ID,
        { pattern: env.HES_REFRESH_CRON, tz: env.HES_REFRESH_TZ },
        { name: HES_REFRESH_JOB, data, opts: HES_REFRESH_JOB_OPTIONS },
      );
    } catch (err) {
      // Another process's upsert, or this slot's job already running, owns the slot: the
      // scheduler exists and the worker schedules the next firing after this one.
      const existing = await queue.getJobScheduler(HES_REFRESH_SCHEDULER_ID);
      if (existing?.pattern !== env.HES_REFRESH_CRON || existing.tz !== env.HES_REFRESH_TZ) throw err;
      logger.warn({ err: (err as Error).message }, 'HES refresh scheduler already in place');
    }
  }

  let worker: Worker<unknown, unknown, string> | undefined;

  return {
    metrics,
    /** The ops server (not listening until start({ http: true })): tests inject into it. */
    ops,
    relay,
    queue,

    /** Queue a refresh now (the scheduler's job, by hand); resolves with its job id. */
    async refreshNow(): Promise<string> {
      const data = parseHesRefreshPayload({ trigger: 'manual' });
      const jobId = manualRefreshJobId(new Date());
      await queue.add(HES_REFRESH_JOB, data, { ...HES_REFRESH_JOB_OPTIONS, jobId });
      return jobId;
    },

    /** Wait until a refresh job has finished, polling its state. Rejects after timeoutMs. */
    async waitForRefresh(
      jobId: string,
      options: { timeoutMs?: number; pollMs?: number } = {},
    ): Promise<RefreshJobOutcome> {
      const timeoutMs = options.timeoutMs ?? 60_000;
      const giveUp = Date.now() + timeoutMs;
      for (;;) {
        // The state first, then the job (a job read first may finish in between without its value).
        const state = await queue.getJobState(jobId);
        const job = state === 'completed' || state === 'failed' ? await queue.getJob(jobId) : undefined;
        if (job && state === 'completed') {
          return { state, result: job.returnvalue as HesRefreshJobResult };
        }
        if (job && state === 'failed') {
          return { state, failedReason: job.failedReason, attemptsMade: job.attemptsMade };
        }
        if (Date.now() > giveUp) throw new Error(`refresh job ${jobId} still ${state} after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, options.pollMs ?? 100));
      }
    },

    /**
     * Ops server → the topic checked (created compacted if missing; a deleting topic is refused)
     * → producer → relay → the refresh's job scheduler and worker.
     */
    async start(options: { http: boolean } = { http: true }): Promise<void> {
      if (options.http) await ops.listen({ host: env.STATUS_RELAY_HOST, port: env.STATUS_RELAY_PORT });
      const topic = await publisher.start();

      await scheduleRefresh();
      const w = new Worker<unknown, unknown, string>(env.STATUS_RELAY_QUEUE, processor, {
        connection: redis,
        prefix: env.STATUS_RELAY_QUEUE_PREFIX,
        // One refresh at a time: two would ask the service twice for nothing.
        concurrency: 1,
      });
      worker = w;
      w.on('completed', () => metrics.refreshRuns.inc({ outcome: 'completed' }));
      w.on('failed', onFailed);
      w.on('error', (err: Error) => logger.warn({ err: err.message }, 'refresh worker error'));
      shutdown.register('refresh worker', () => w.close());
      await w.waitUntilReady();
      logger.info(
        {
          topic: topic.topic,
          topicCreated: topic.created,
          queue: env.STATUS_RELAY_QUEUE,
          cron: env.HES_REFRESH_CRON,
          tz: env.HES_REFRESH_TZ,
          batchSize: env.HES_REFRESH_BATCH_SIZE,
        },
        'status relay started',
      );
    },

    /** The worker once started (tests inspect it). */
    get worker(): Worker<unknown, unknown, string> | undefined {
      return worker;
    },
  };
}

export type StatusRelayService = ReturnType<typeof createStatusRelayService>;
