import type { Logger } from '@boarding/logger/logger';
import { Kafka, type KafkaConfig, logLevel, Partitioners } from 'kafkajs';

/**
 * The one place kafkajs is configured, so that a later swap of client library stays here.
 * kafkajs logs through our pino logger (stderr, redacted) instead of its own console writer.
 */
export function createKafka(options: {
  brokers: string[];
  clientId: string;
  logger?: Logger;
  config?: Partial<KafkaConfig>;
}): Kafka {
  const { logger } = options;
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    connectionTimeout: 5000,
    retry: { retries: 8, initialRetryTime: 200 },
    logLevel: logger ? logLevel.WARN : logLevel.NOTHING,
    logCreator: () => (entry) => {
      if (!logger) return;
      const { message, ...rest } = entry.log;
      const fields = { kafka: entry.namespace, ...rest };
      if (entry.level <= logLevel.ERROR) logger.error(fields, message);
      else if (entry.level === logLevel.WARN) logger.warn(fields, message);
      else logger.debug(fields, message);
    },
    ...options.config,
  });
}

// The default partitioner since kafkajs 2 (murmur2, same as the Java client): a validator's
// messages, keyed by its id, always land on one partition, which keeps them in order.
export const defaultPartitioner = Partitioners.DefaultPartitioner;
