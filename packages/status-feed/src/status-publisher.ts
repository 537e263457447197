import type { Db } from '@boarding/db/client';
import { createKafka } from '@boarding/kafka/client';
import type { Logger } from '@boarding/logger/logger';
import type { Pool } from 'pg';
import { createStatusProducer } from './publish-full';
import { createStatusRelay } from './status-relay';
import { ensureStatusTopic, type StatusTopicResult } from './status-topic';

export type StatusPublisherOptions = {
  pool: Pool;
  db: Db;
  brokers: string[];
  clientId: string;
  logger: Logger;
  topic: string;
  /** Partitions when the topic is created here (an existing one is only checked). */
  partitions: number;
  onPublished?: (rows: number) => void;
};

/**
 * The outbox relay with its Kafka clients, as a service runs it (`boarding serve status-relay`
 * and the registry API, SPEC §10: one active at a time, the others on standby): the topic checked
 * (created compacted when missing, a deleting topic refused), an idempotent producer with one
 * request in flight (a retried send is neither written twice nor overtakes the one before it, so
 * each card's versions reach the topic in order), then the relay.
 */
export function createStatusPublisher(options: StatusPublisherOptions) {
  const kafka = createKafka({ brokers: options.brokers, clientId: options.clientId, logger: options.logger });
  const producer = createStatusProducer(kafka);
  const admin = kafka.admin();
  const relay = createStatusRelay({
    pool: options.pool,
    db: options.db,
    producer,
    logger: options.logger,
    topic: options.topic,
    onPublished: options.onPublished,
  });
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;

  // A stop() while Kafka was being reached wins: nothing is connected or started after it.
  const notStopped = () => {
    if (stopped)
      throw Object.assign(new Error('status publisher stopped while starting'), { code: 'STOPPED' });
  };
  const start = async (): Promise<StatusTopicResult> => {
    await admin.connect();
    notStopped();
    const topic = await ensureStatusTopic(admin, { topic: options.topic, partitions: options.partitions });
    notStopped();
    await producer.connect();
    notStopped();
    relay.start();
    return topic;
  };

  return {
    relay,
    /** For readiness checks: the cluster as this process sees it. */
    admin,
    /** Topic → producer → relay; rejects when Kafka cannot be reached. */
    start,
    /**
     * The same, in the background, trying again every `retryMs` while Kafka is away: for a process
     * whose main work must not wait for Kafka (the registry API serves citizens regardless; the
     * outbox keeps every change until a relay publishes it).
     */
    startInBackground(retryMs = 10_000): void {
      const attempt = () => {
        if (stopped) return;
        start().then(
          (topic) =>
            options.logger.info({ topic: topic.topic, created: topic.created }, 'status relay started'),
          (err: Error) => {
            if (stopped) return;
            options.logger.warn(
              { error: err.name, code: (err as { code?: unknown }).code, retryMs },
              'status relay could not start (Kafka away?); trying again',
            );
            retry = setTimeout(attempt, retryMs);
            retry.unref();
          },
        );
      };
      attempt();
    },
    /** Idempotent: the relay (its last batch acknowledged first), then the producer and admin. */
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(retry);
      await relay.stop();
      await producer.disconnect().catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
    },
  };
}
export type StatusPublisher = ReturnType<typeof createStatusPublisher>;
