import type { Logger } from '@boarding/logger/logger';
import { Kafka, type KafkaConfig, type LogEntry, logLevel, Partitioners } from 'kafkajs';

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
      logger[kafkaLogLevel(entry)]({ kafka: entry.namespace, ...rest }, message);
    },
    ...options.config,
  });
}

// The default partitioner since kafkajs 2 (murmur2, same as the Java client): a validator's
// messages, keyed by its id, always land on one partition, which keeps them in order.
export const defaultPartitioner = Partitioners.DefaultPartitioner;

// What kafkajs reports, and then retries by itself, while a broker starts, a group's coordinator
// loads, a topic's leader is elected or a group rebalances: a fresh stack says these for seconds
// (the first thing `npm run demo` showed was "The coordinator is loading…" at error level). If
// the retries run out, the caller gets the error and says so; the entries on the way are debug.
const TRANSIENT = new RegExp(
  [
    'coordinator is loading',
    'coordinator is not available',
    'not the correct coordinator',
    'no leader for this topic-partition',
    'leadership election',
    'not the leader for that topic-partition',
    'does not host this topic-partition',
    'broker is not available',
    'replica is not available',
    'group is rebalancing',
    'Request .* timed out',
    'The request timed out',
    'server disconnected before a response',
    'Connection error:',
    'Connection timeout',
    'Failed to connect to (seed )?broker',
    'ECONNREFUSED',
  ].join('|'),
  'i',
);

/**
 * The level a kafkajs log entry is written at: a transient, retried condition (above) at debug
 * whatever kafkajs called it; otherwise kafkajs' own level (ERROR and NOTHING at error).
 */
export function kafkaLogLevel(entry: Pick<LogEntry, 'level' | 'log'>): 'error' | 'warn' | 'info' | 'debug' {
  const { message, error } = entry.log as { message?: unknown; error?: unknown };
  const text = `${typeof message === 'string' ? message : ''} ${typeof error === 'string' ? error : ''}`;
  if (TRANSIENT.test(text)) return 'debug';
  if (entry.level <= logLevel.ERROR) return 'error';
  if (entry.level === logLevel.WARN) return 'warn';
  return entry.level === logLevel.INFO ? 'info' : 'debug';
}
