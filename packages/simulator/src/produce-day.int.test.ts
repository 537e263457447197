import { randomUUID } from 'node:crypto';
import { createKafka } from '@boarding/kafka/client';
import { testEnv } from '@boarding/testing/env';
import { planDay } from './day';
import { createKafkaSink, produceDay } from './produce-day';

type Received = { key: string; value: string; timestamp: string; partition: number; offset: number };

describe('produceDay to the local Kafka', () => {
  const env = testEnv();
  const kafka = createKafka({ brokers: env.KAFKA_BROKERS, clientId: 'simulator-test' });
  const topic = `test.simulate.${randomUUID()}`;
  const groupId = `simulator-test-${randomUUID()}`;
  const admin = kafka.admin();

  beforeAll(async () => {
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: 3, configEntries: [{ name: 'retention.ms', value: '-1' }] }],
    });
  });

  afterAll(async () => {
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('writes every message of a day once, keyed by validator, with its upload time as the Kafka timestamp', async () => {
    const plan = planDay({ day: '2020-11-20', taps: 2_000, seed: 21 });
    const expected = [...plan.messages()];
    const sink = createKafkaSink({ kafka, topic });
    await sink.connect();
    try {
      const report = await produceDay({ plan, sink, batchSize: 500 });
      expect(report.messages).toBe(plan.truth.messages);
    } finally {
      await sink.disconnect();
    }

    const received: Received[] = [];
    const consumer = kafka.consumer({ groupId });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`only ${received.length} of ${expected.length} messages consumed`)),
          60_000,
        );
        consumer
          .run({
            eachBatch: async ({ batch }) => {
              for (const m of batch.messages) {
                received.push({
                  key: String(m.key),
                  value: String(m.value),
                  timestamp: m.timestamp,
                  partition: batch.partition,
                  offset: Number(m.offset),
                });
              }
              if (received.length >= expected.length) {
                clearTimeout(timer);
                resolve();
              }
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect();
    }

    expect(received).toHaveLength(plan.truth.messages);
    // Same messages, timestamps preserved.
    const text = (m: { key: string; value: string; timestamp: string }) =>
      `${m.key}\n${m.timestamp}\n${m.value}`;
    expect(received.map(text).sort()).toEqual(expected.map(text).sort());
    // Each validator on one partition, its messages in the order they were produced.
    const partitionOf = new Map<string, Set<number>>();
    for (const m of received) partitionOf.set(m.key, (partitionOf.get(m.key) ?? new Set()).add(m.partition));
    for (const partitions of partitionOf.values()) expect(partitions.size).toBe(1);
    const inOrder = (list: { key: string; value: string; timestamp: string }[], key: string) =>
      list.filter((m) => m.key === key).map(text);
    const byOffset = [...received].sort((a, b) => a.partition - b.partition || a.offset - b.offset);
    for (const key of partitionOf.keys()) expect(inOrder(byOffset, key)).toEqual(inOrder(expected, key));
  });
});
