import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createKafka, defaultPartitioner } from '@boarding/kafka/client';
import type { Rate } from './harness';
import { tapMessage } from './synthetic-taps';

type Kafka = ReturnType<typeof createKafka>;
type TapMessage = ReturnType<typeof tapMessage>;
type Cleanup = (label: string, undo: () => Promise<void>) => () => Promise<void>;

export const KAFKA_PARTITIONS = 12;
// Chosen by measurement on the reference machine (docs/benchmarks.md): 8 `sendBatch` calls of
// 1,000 messages in flight beat one call of 5,000–10,000 at a time by 20–40 % (20,000 was slower
// still). Likely why: kafkajs encodes on the one JS thread, and with several small requests in
// flight the broker writes some while the next is being encoded, instead of waiting for it.
export const PRODUCE_BATCH = 1000;
export const PRODUCE_LANES = 8;
// Sent before the clock starts: the first batches of a process run through cold code (no JIT
// yet) and fresh connections, and the first measurement of a process came out lowest.
export const WARMUP_MESSAGES = 10_000;

export type KafkaLimits = { produce: Rate; consume: Rate };

/**
 * Produces `messages` tap messages to a fresh topic, then reads them back through a consumer
 * group. Both figures come from one topic, so they are measured together; the topic and the
 * group are deleted afterwards.
 */
export async function measureKafka(options: {
  brokers: string[];
  messages: number;
  progress: (message: string) => void;
  cleanup: Cleanup;
}): Promise<KafkaLimits> {
  const { messages, progress } = options;
  const kafka = createKafka({ brokers: options.brokers, clientId: 'boarding-bench' });
  const topic = `bench.limits.${randomUUID()}`;
  const groupId = `bench-limits-${randomUUID()}`;
  const admin = kafka.admin();
  await admin.connect();
  const closeAdmin = options.cleanup('disconnect Kafka admin', () => admin.disconnect());
  try {
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: KAFKA_PARTITIONS }] });
    const dropTopic = options.cleanup(`delete Kafka topic ${topic}`, () =>
      admin.deleteTopics({ topics: [topic] }),
    );
    try {
      const produce = await produceAll(kafka, topic, messages);
      progress(`kafka-produce: ${messages.toLocaleString('en-US')} msgs in ${produce.seconds.toFixed(2)} s`);
      // The consumer reads the warm-up messages too: all of them are on the topic.
      const onTopic = messages + Math.min(WARMUP_MESSAGES, messages);
      const dropGroup = options.cleanup(`delete consumer group ${groupId}`, () =>
        admin.deleteGroups([groupId]).then(() => undefined),
      );
      try {
        const consume = await consumeAll(kafka, topic, groupId, onTopic);
        progress(`kafka-consume: ${onTopic.toLocaleString('en-US')} msgs in ${consume.seconds.toFixed(2)} s`);
        return { produce, consume };
      } finally {
        await dropGroup();
      }
    } finally {
      await dropTopic();
    }
  } finally {
    await closeAdmin();
  }
}

/** Messages `first … first+count-1`, cut into `sendBatch`-sized arrays. */
function splitBatches(first: number, count: number, batchSize: number): TapMessage[][] {
  const batches: TapMessage[][] = [];
  for (let start = 0; start < count; start += batchSize) {
    const end = Math.min(start + batchSize, count);
    batches.push(Array.from({ length: end - start }, (_, i) => tapMessage(first + start + i)));
  }
  return batches;
}

async function produceAll(kafka: Kafka, topic: string, messages: number): Promise<Rate> {
  // Built before the clock starts: the figure is what kafkajs and the broker can take, not how
  // fast this process makes JSON.
  const batches = splitBatches(0, messages, PRODUCE_BATCH);
  const producer = kafka.producer({ createPartitioner: defaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const sendAll = async (list: TapMessage[][]): Promise<void> => {
      let next = 0;
      const lane = async (): Promise<void> => {
        for (let batch = list[next++]; batch !== undefined; batch = list[next++]) {
          // acks -1: every in-sync replica has it, as the ingest path requires. kafkajs sends
          // uncompressed unless told otherwise.
          await producer.sendBatch({ acks: -1, topicMessages: [{ topic, messages: batch }] });
        }
      };
      await Promise.all(Array.from({ length: PRODUCE_LANES }, lane));
    };
    await sendAll(splitBatches(messages, Math.min(WARMUP_MESSAGES, messages), PRODUCE_BATCH));
    const started = performance.now();
    await sendAll(batches);
    const seconds = (performance.now() - started) / 1000;
    return { value: messages / seconds, unit: 'msgs/s', amount: messages, seconds };
  } finally {
    await producer.disconnect();
  }
}

export async function consumeAll(
  kafka: Kafka,
  topic: string,
  groupId: string,
  messages: number,
): Promise<Rate> {
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let firstFetch: number | undefined;
    // The clock starts at the first fetch after the group is joined: group coordination takes
    // seconds (a rebalance delay) and is paid once per process, not per message.
    consumer.on(consumer.events.FETCH_START, () => {
      firstFetch ??= performance.now();
    });
    let count = 0;
    const deadlineMs = Math.max(60_000, messages / 2);
    const seconds = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(`kafka-consume: only ${count} of ${messages} messages arrived in ${deadlineMs} ms`),
          ),
        deadlineMs,
      );
      consumer
        .run({
          eachBatch: async ({ batch }) => {
            count += batch.messages.length;
            if (count >= messages) {
              clearTimeout(timer);
              resolve((performance.now() - (firstFetch ?? performance.now())) / 1000);
            }
          },
        })
        .catch((err: unknown) => {
          clearTimeout(timer);
          reject(err);
        });
    });
    return { value: messages / seconds, unit: 'msgs/s', amount: messages, seconds };
  } finally {
    await consumer.disconnect();
  }
}
