import { randomUUID } from 'node:crypto';
import { createKafka } from '@boarding/kafka/client';
import type { Kafka } from 'kafkajs';
import { testEnv } from './env';

export type TestTopic = { kafka: Kafka; topic: string; drop: () => Promise<void> };

/** A fresh topic (time retention off, like the taps topic) for one test file. */
export async function createTestTopic(partitions = 3): Promise<TestTopic> {
  const kafka = createKafka({ brokers: testEnv().KAFKA_BROKERS, clientId: 'test' });
  const topic = `test.taps.${randomUUID()}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic, numPartitions: partitions, configEntries: [{ name: 'retention.ms', value: '-1' }] }],
  });
  await admin.disconnect();
  return {
    kafka,
    topic,
    drop: async () => {
      const a = kafka.admin();
      await a.connect();
      await a.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await a.disconnect();
    },
  };
}

export type TestMessage = { key: string; value: string | Buffer; timestamp: number };

export async function produce(kafka: Kafka, topic: string, messages: TestMessage[]): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += 1000) {
      await producer.send({
        topic,
        acks: -1,
        messages: messages
          .slice(i, i + 1000)
          .map((m) => ({ key: m.key, value: m.value, timestamp: String(m.timestamp) })),
      });
    }
  } finally {
    await producer.disconnect();
  }
}
