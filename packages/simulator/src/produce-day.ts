import { performance } from 'node:perf_hooks';
import { defaultPartitioner } from '@boarding/kafka/client';
import type { ICustomPartitioner, Kafka, PartitionerArgs } from 'kafkajs';
import type { DayPlan } from './day';
import type { SimMessage } from './messages';

/**
 * Where a simulated day goes: Kafka in `boarding simulate`, an array in tests. `send` resolves
 * once the batch is acknowledged; batches arrive one at a time, in production order.
 */
export type MessageSink = { send(batch: readonly SimMessage[]): Promise<void> };

export type KafkaSink = MessageSink & { connect(): Promise<void>; disconnect(): Promise<void> };

/**
 * Messages per produce request. With 12 partitions this keeps each partition's record batch
 * far below the broker's 1 MB message limit even with oversized (16 KiB+) values in it, and
 * kafkajs groups messages per partition in time quadratic in the batch, so bigger is slower.
 */
export const PRODUCE_BATCH = 2_000;

/**
 * One produce request in flight at a time: kafkajs may retry a failed request after a later
 * one succeeded, which would reorder a validator's messages; one at a time never does.
 */
export function createKafkaSink(options: { kafka: Kafka; topic: string }): KafkaSink {
  const producer = options.kafka.producer({
    createPartitioner: cachedPartitioner,
    allowAutoTopicCreation: false,
  });
  return {
    connect: () => producer.connect(),
    disconnect: () => producer.disconnect(),
    async send(batch) {
      // acks -1: every in-sync replica has the batch before the next one is sent.
      await producer.sendBatch({ acks: -1, topicMessages: [{ topic: options.topic, messages: [...batch] }] });
    },
  };
}

/**
 * kafkajs's default partitioner (murmur2 of the key, as the Java client), remembered per key:
 * a day has a few thousand keys and millions of messages, and the hash plus the partition
 * filter kafkajs runs per message cost more than the JSON of the message.
 */
const cachedPartitioner: ICustomPartitioner = () => {
  const partition = defaultPartitioner();
  const cache = new Map<string, number>();
  let cachedFor: PartitionerArgs['partitionMetadata'] | undefined;
  return (args) => {
    const key = args.message.key;
    if (typeof key !== 'string' || args.message.partition !== undefined) return partition(args);
    // New metadata (a topic grown by partitions) invalidates the cache.
    if (args.partitionMetadata !== cachedFor) {
      cache.clear();
      cachedFor = args.partitionMetadata;
    }
    const known = cache.get(`${args.topic}\u0000${key}`);
    if (known !== undefined) return known;
    const computed = partition(args);
    cache.set(`${args.topic}\u0000${key}`, computed);
    return computed;
  };
};

/** A sink that keeps everything, for tests. */
export function createMemorySink(): MessageSink & { batches: SimMessage[][] } {
  const batches: SimMessage[][] = [];
  return {
    batches,
    send: async (batch) => {
      batches.push([...batch]);
    },
  };
}

export type ProduceReport = { messages: number; batches: number; seconds: number; messagesPerSecond: number };

/**
 * Sends a planned day in production order (upload time, then validator), in batches. The next
 * batch is written while the broker acknowledges the current one, so making the JSON costs
 * little on top of sending it.
 */
export async function produceDay(options: {
  plan: DayPlan;
  sink: MessageSink;
  batchSize?: number;
  onProgress?: (sent: number, total: number) => void;
}): Promise<ProduceReport> {
  const { plan, sink } = options;
  const batchSize = options.batchSize ?? PRODUCE_BATCH;
  const total = plan.messageCount;
  const messages = plan.messages();
  const take = (): SimMessage[] => {
    const batch: SimMessage[] = [];
    for (let next = messages.next(); !next.done; next = messages.next()) {
      batch.push(next.value);
      if (batch.length >= batchSize) break;
    }
    return batch;
  };
  const started = performance.now();
  let sent = 0;
  let batches = 0;
  let batch = take();
  while (batch.length > 0) {
    // Both promises are awaited together, so a failed send is never an unhandled rejection.
    const [, next] = await Promise.all([sink.send(batch), afterIo(take)]);
    sent += batch.length;
    batches++;
    options.onProgress?.(sent, total);
    batch = next;
  }
  const seconds = (performance.now() - started) / 1000;
  return { messages: sent, batches, seconds, messagesPerSecond: seconds > 0 ? sent / seconds : 0 };
}

/** Runs `work` after pending I/O callbacks, i.e. once the current request is on the wire. */
function afterIo<T>(work: () => T): Promise<T> {
  return new Promise((resolve, reject) => {
    setImmediate(() => {
      try {
        resolve(work());
      } catch (err) {
        reject(err);
      }
    });
  });
}
