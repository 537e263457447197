import { randomUUID } from 'node:crypto';
import { createKafka } from '@boarding/kafka/client';
import { AssignerProtocol, type Kafka } from 'kafkajs';
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

/**
 * Waits until the group is Stable with `members` members that each hold at least one partition.
 * A test that wants every process to take part produces only after this: otherwise the first
 * process to join may take every partition and consume the lot before the next one is given any.
 */
export async function untilEveryMemberHoldsPartitions(
  kafka: Kafka,
  groupId: string,
  members: number,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + 60000;
    let seen = 'not described yet';
    while (Date.now() < deadline) {
      const group = (await admin.describeGroups([groupId])).groups[0];
      const held = (group?.members ?? []).map((m) => {
        const assignment = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
        return Object.values(assignment?.assignment ?? {}).reduce((n, ps) => n + ps.length, 0);
      });
      seen = `${group?.state}, partitions held ${JSON.stringify(held)}`;
      if (group?.state === 'Stable' && held.length === members && held.every((n) => n > 0)) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`group ${groupId} did not settle with ${members} members holding partitions: ${seen}`);
  } finally {
    await admin.disconnect();
  }
}
