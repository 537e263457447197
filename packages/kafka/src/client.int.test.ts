import { randomUUID } from 'node:crypto';
import { KafkaEnv, loadEnv } from '@boarding/config/env';

// The local stack's settings (.local/stack.env); @boarding/testing depends on this package.
const testEnv = () => loadEnv(KafkaEnv);

import { createKafka } from './client';

describe('kafkajs against the local Kafka broker', () => {
  it('produces and consumes through a consumer group on a fresh topic', async () => {
    const env = testEnv();
    const kafka = createKafka({ brokers: env.KAFKA_BROKERS, clientId: 'smoke' });
    const topic = `smoke.${randomUUID()}`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 3 }] });

    const producer = kafka.producer();
    await producer.connect();
    const sent = Array.from({ length: 30 }, (_, i) => ({ key: `V-${i % 5}`, value: JSON.stringify({ i }) }));
    await producer.send({ topic, messages: sent });
    await producer.disconnect();

    const groupId = `smoke-${randomUUID()}`;
    const consumer = kafka.consumer({ groupId });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received: number[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${received.length} of 30 consumed`)), 60000);
      consumer
        .run({
          eachMessage: async ({ message }) => {
            received.push(JSON.parse(String(message.value)).i);
            if (received.length === sent.length) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();

    // The group committed its offsets: every partition's committed offset is at its end.
    const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();
    expect(received.sort((a, b) => a - b)).toEqual(sent.map((_, i) => i));
    const offsets = committed[0]?.partitions.map((p) => Number(p.offset)) ?? [];
    expect(offsets.reduce((a, b) => a + b, 0)).toBe(sent.length);
  });

  it('keeps the taps topic forever: time retention off', async () => {
    const env = testEnv();
    const admin = createKafka({ brokers: env.KAFKA_BROKERS, clientId: 'smoke' }).admin();
    await admin.connect();
    try {
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: 2, name: env.KAFKA_TAPS_TOPIC, configNames: ['retention.ms'] }],
      });
      expect(resources[0]?.configEntries.find((c) => c.configName === 'retention.ms')?.configValue).toBe(
        '-1',
      );
      const meta = await admin.fetchTopicMetadata({ topics: [env.KAFKA_TAPS_TOPIC] });
      expect(meta.topics[0]?.partitions.length).toBeGreaterThan(1);
    } finally {
      await admin.disconnect();
    }
  });
});
