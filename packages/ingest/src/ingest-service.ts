import { countMatchedTaps } from '@boarding/db/bulk/offset-records';
import { createDb } from '@boarding/db/client';
import { createKafka } from '@boarding/kafka/client';
import type { ShutdownRegistry } from '@boarding/lifecycle/shutdown';
import { within } from '@boarding/lifecycle/time-limit';
import type { Logger } from '@boarding/logger/logger';
import { createOpsServer, errorCode } from '@boarding/ops-http/ops-server';
import { assertTopicExists, type GroupLag, groupLag, isTopicMissing, waitForNoLag } from './catch-up';
import { createIngestConsumer, type IngestConsumerOptions } from './ingest-consumer';
import { createIngestMetrics } from './metrics';
import type { AccountTotals } from './reconcile';
import { RunAccount } from './run-account';
import type { IngestEnv } from './settings';
import { StallWatch } from './stall-watch';

/** The ingest stopped moving (SPEC §2: a stuck consumer shows itself). */
export class IngestStalledError extends Error {
  readonly code = 'INGEST_STALLED';
  readonly retryable = true;
}

/** The longest a reading of the group waits for the run's accounting (PostgreSQL) before going on. */
const ACCOUNTING_WAIT_MS = 2000;

/**
 * A chunk's transaction the server sees idle this long is ended by the server (rolled back, its
 * locks released). A chunk sends its statements back to back (the longest gap is judging the
 * chunk, milliseconds); a transaction left idle is one whose process died or was cut off by the
 * network without the server seeing its connection close (it would otherwise hold the chunk's
 * tap keys, and so stall whoever takes the partition over, until TCP keepalive finds it: hours
 * with the server's defaults).
 */
const IDLE_IN_TRANSACTION_MS = 60_000;

/** What a run did, from the per-offset records of the offsets committed during it. */
export type RunSummary = AccountTotals & { matched: number };

/**
 * The ingest service's parts, wired but not started: database pool, Kafka consumer, lag and
 * stall tracking, the run's accounting and the ops server. Teardown order (registered in
 * reverse): stop intake and finish the running chunk (the consumer) → stop the lag poller →
 * close the ops server → disconnect the admin → close the pool.
 */
export function createIngestService(
  env: IngestEnv,
  logger: Logger,
  shutdown: ShutdownRegistry,
  hooks: Pick<IngestConsumerOptions, 'onChunk'> & {
    /**
     * The caller will ask for `summary()` (`ingest --until-caught-up`): the run's matched taps
     * are then counted at each reading, so the summary only counts the last reading's.
     */
    summary?: boolean;
  } = {},
) {
  const { pool } = createDb({
    url: env.DATABASE_URL,
    pool: { max: env.INGEST_CONCURRENCY + 2, idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_MS },
  });
  shutdown.register('postgres pool', () => pool.end());
  const kafka = createKafka({
    brokers: env.KAFKA_BROKERS,
    clientId: `${env.KAFKA_CLIENT_ID}-ingest`,
    logger,
  });
  const topic = env.KAFKA_TAPS_TOPIC;
  const metrics = createIngestMetrics();
  const admin = kafka.admin();
  const stalls = new StallWatch(env.INGEST_STALL_SECONDS * 1000);
  const run = new RunAccount(pool, topic, { countMatched: hooks.summary ?? false });
  const ingest = createIngestConsumer({
    kafka,
    pool,
    topic,
    groupId: env.INGEST_GROUP_ID,
    logger,
    metrics,
    maxTapAgeDays: env.MAX_TAP_AGE_DAYS,
    concurrency: env.INGEST_CONCURRENCY,
    chunkSize: env.INGEST_CHUNK_SIZE,
    sessionTimeoutMs: env.INGEST_SESSION_TIMEOUT_MS,
    onChunk: hooks.onChunk,
  });
  let fatal: Error | undefined;
  void ingest.crashed.then((err) => {
    fatal = err;
  });
  const lag = () => groupLag(admin, env.INGEST_GROUP_ID, topic);

  // The run's accounting reads PostgreSQL. A reading waits for it a little, so the totals stay
  // fresh, but never longer: a database that stops answering (a hung server, a route gone with
  // the socket still open) must not stop the lag readings, the stall watch or a catch-up's
  // timeout. One accounting at a time: a reading while one is pending does not queue another.
  let accounting: { since: number; done: Promise<void> } | undefined;
  function account(reading: GroupLag): Promise<void> {
    if (accounting) return accounting.done;
    const done = run
      .advance(reading)
      .then(publishTotals, (err: unknown) => {
        logger.warn({ err: (err as Error).message }, 'run accounting not refreshed');
      })
      .finally(() => {
        accounting = undefined;
      });
    accounting = { since: Date.now(), done };
    return done;
  }

  /** One reading of the group: lag gauge, stall watch, the run's accounting. */
  async function observe(): Promise<GroupLag | undefined> {
    const reading = await lag().catch((err: unknown) => {
      if (isTopicMissing(err)) fatal ??= err as Error;
      return undefined;
    });
    stalls.observe(reading);
    metrics.stalledPartitions.set(stalls.unreadable ? -1 : stalls.stalled.length);
    if (reading) {
      metrics.lag.set(reading.total);
      if (run.started) await within(ACCOUNTING_WAIT_MS, account(reading));
    }
    return reading;
  }

  function publishTotals(totals: AccountTotals): void {
    metrics.runRecords.set({ kind: 'tap', reason: '' }, totals.taps);
    metrics.runRecords.set({ kind: 'duplicate', reason: '' }, totals.duplicates);
    metrics.runRecords.set({ kind: 'heartbeat', reason: '' }, totals.heartbeats);
    for (const [reason, n] of Object.entries(totals.deadLettered)) {
      metrics.runRecords.set({ kind: 'dead-letter', reason }, n);
    }
    metrics.runOffsetsUnaccounted.set(totals.unaccounted);
  }

  /** Throws when the run cannot go on by waiting: consumer dead, topic gone, or stalled. */
  function assertHealthy(): void {
    if (fatal && isTopicMissing(fatal)) throw fatal;
    if (fatal) throw new Error(`ingest consumer crashed: ${fatal.message}`);
    const stalled = stalls.describe();
    if (stalled) throw new IngestStalledError(stalled);
  }

  const ops = createOpsServer({
    registry: metrics.registry,
    ready: async () => {
      await pool.query('select 1');
      const reading = await lag();
      const stalled = stalls.describe();
      if (fatal || stalled) {
        return {
          ready: false,
          detail: {
            lag: reading.total,
            reason: fatal ? errorCode(fatal) : stalled,
            stalled: stalls.stalled,
          },
        };
      }
      return { ready: true, detail: { lag: reading.total } };
    },
  });

  return {
    metrics,
    admin,
    /** /healthz, /readyz, /metrics (listening only with `start({ http: true })`; tests inject). */
    ops,
    crashed: ingest.crashed,
    lag,
    /** How long the run's accounting has been waiting for PostgreSQL (0: not waiting). */
    accountingWaitMs: () => (accounting ? Date.now() - accounting.since : 0),
    /**
     * Resolves once the group has no lag on any partition; `onTick` sees the lag after each
     * wait. Rejects if the consumer crashed for good, the topic is gone, a partition stalled
     * (INGEST_STALL_SECONDS without a commit while it has lag) or the timeout passed.
     */
    async untilCaughtUp(options: {
      intervalMs: number;
      timeoutMs?: number;
      onTick?: (lag: GroupLag) => void;
    }) {
      await waitForNoLag({
        ...options,
        lag: async () => {
          const reading = await observe();
          assertHealthy();
          if (!reading) throw new Error('lag unreadable');
          return reading;
        },
        healthy: assertHealthy,
        describe: () => stalls.describe() ?? '',
      });
    },
    /** The run's totals from the per-offset records, up to the offsets committed now. */
    async summary(): Promise<RunSummary> {
      const reading = await lag();
      const totals = await run.advance(reading);
      publishTotals(totals);
      return { ...totals, matched: run.matched ?? (await countMatchedTaps(pool, topic, run.ranges)) };
    },
    async start(options: { http: boolean }) {
      await admin.connect();
      shutdown.register('kafka admin', () => admin.disconnect());
      // A missing topic is a clear error now, not a consumer that waits for it forever.
      await assertTopicExists(admin, topic);
      run.begin(await lag());
      if (options.http) {
        await ops.listen({ host: env.INGEST_HOST, port: env.INGEST_PORT });
        shutdown.register('ops server', () => ops.close());
      }
      const poller = setInterval(() => void observe(), 5000);
      poller.unref();
      shutdown.register('lag poller', async () => clearInterval(poller));
      await ingest.start();
      shutdown.register('kafka consumer', () => ingest.stop());
      logger.info({ topic, group: env.INGEST_GROUP_ID }, 'ingest started');
    },
  };
}
