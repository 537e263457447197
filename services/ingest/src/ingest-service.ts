import { createDb } from '@boarding/db/client';
import { type GroupLag, groupLag, waitForNoLag } from '@boarding/ingest/catch-up';
import { createIngestConsumer, type IngestConsumerOptions } from '@boarding/ingest/ingest-consumer';
import { createIngestMetrics } from '@boarding/ingest/metrics';
import { createKafka } from '@boarding/kafka/client';
import type { ShutdownRegistry } from '@boarding/lifecycle/shutdown';
import type { Logger } from '@boarding/logger/logger';
import { createOpsServer } from '@boarding/ops-http/ops-server';
import type { IngestEnv } from './env';

/**
 * The ingest service's parts, wired but not started: database pool, Kafka consumer, lag
 * tracking and the ops server. Teardown order (registered in reverse): stop intake and finish
 * the running chunk (the consumer) → stop the lag poller → close the ops server → close the pool.
 */
export function createIngestService(
  env: IngestEnv,
  logger: Logger,
  shutdown: ShutdownRegistry,
  hooks: Pick<IngestConsumerOptions, 'onChunk'> = {},
) {
  const { pool } = createDb({ url: env.DATABASE_URL, pool: { max: env.INGEST_CONCURRENCY + 2 } });
  shutdown.register('postgres pool', () => pool.end());
  const kafka = createKafka({
    brokers: env.KAFKA_BROKERS,
    clientId: `${env.KAFKA_CLIENT_ID}-ingest`,
    logger,
  });
  const metrics = createIngestMetrics();
  const admin = kafka.admin();
  const ingest = createIngestConsumer({
    kafka,
    pool,
    topic: env.KAFKA_TAPS_TOPIC,
    groupId: env.INGEST_GROUP_ID,
    logger,
    metrics,
    maxTapAgeDays: env.MAX_TAP_AGE_DAYS,
    concurrency: env.INGEST_CONCURRENCY,
    chunkSize: env.INGEST_CHUNK_SIZE,
    sessionTimeoutMs: env.INGEST_SESSION_TIMEOUT_MS,
    onChunk: hooks.onChunk,
  });
  const ops = createOpsServer({
    registry: metrics.registry,
    ready: async () => {
      await pool.query('select 1');
      const lag = await groupLag(admin, env.INGEST_GROUP_ID, env.KAFKA_TAPS_TOPIC);
      return { ready: true, detail: { lag: lag.total } };
    },
  });
  let poller: NodeJS.Timeout | undefined;
  let fatal: Error | undefined;
  void ingest.crashed.then((err) => {
    fatal = err;
  });
  const lag = () => groupLag(admin, env.INGEST_GROUP_ID, env.KAFKA_TAPS_TOPIC);

  return {
    metrics,
    admin,
    crashed: ingest.crashed,
    lag,
    /**
     * Resolves once the group has no lag on any partition; `onTick` sees the lag after each
     * wait. Rejects if the consumer crashed for good or the timeout passed.
     */
    async untilCaughtUp(options: {
      intervalMs: number;
      timeoutMs?: number;
      onTick?: (lag: GroupLag) => void;
    }) {
      await waitForNoLag({
        ...options,
        lag,
        healthy: () => {
          if (fatal) throw new Error(`ingest consumer crashed: ${fatal.message}`);
        },
      });
    },
    async start(options: { http: boolean }) {
      await admin.connect();
      shutdown.register('kafka admin', () => admin.disconnect());
      if (options.http) {
        await ops.listen({ host: '0.0.0.0', port: env.INGEST_PORT });
        shutdown.register('ops server', () => ops.close());
      }
      const refreshLag = async () => {
        const lag = await groupLag(admin, env.INGEST_GROUP_ID, env.KAFKA_TAPS_TOPIC).catch(() => undefined);
        if (lag) metrics.lag.set(lag.total);
      };
      poller = setInterval(() => void refreshLag(), 5000);
      poller.unref();
      shutdown.register('lag poller', async () => clearInterval(poller));
      await ingest.start();
      shutdown.register('kafka consumer', () => ingest.stop());
      logger.info({ topic: env.KAFKA_TAPS_TOPIC, group: env.INGEST_GROUP_ID }, 'ingest started');
    },
  };
}
