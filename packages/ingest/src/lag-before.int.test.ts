import { createTestTopic, produce, type TestTopic } from '@boarding/testing/kafka';
import type { Admin } from 'kafkajs';
import { lagBefore } from './lag-before';

const T0 = Date.parse('2020-11-20T21:00:00.000Z'); // 00:00 Istanbul, 2020-11-21

describe('lagBefore: what a group has not read of the messages stamped before an instant', () => {
  let topic: TestTopic;
  let admin: Admin;
  const group = 'lag-before-test';

  beforeAll(async () => {
    topic = await createTestTopic(1);
    admin = topic.kafka.admin();
    await admin.connect();
    // Ten messages a minute apart from 23:55 Istanbul on D: five before midnight, five after.
    await produce(
      topic.kafka,
      topic.topic,
      Array.from({ length: 10 }, (_, i) => ({
        key: 'BUS-1',
        value: `m${i}`,
        timestamp: T0 - 5 * 60000 + i * 60000,
      })),
    );
  });

  afterAll(async () => {
    await admin.disconnect();
    await topic.drop();
  });

  it('a group that never read counts every message before the instant, the oldest stamp to the ms', async () => {
    const lag = await lagBefore(admin, {
      groupId: group,
      topic: topic.topic,
      beforeMs: T0,
      lookBackMs: 86400000,
    });
    expect(lag.messages).toBe(5);
    expect(lag.oldestUnreadAt).toBe(new Date(T0 - 5 * 60000).toISOString());
    expect(lag.partitions).toEqual([{ partition: 0, committed: 0, behind: 5 }]);
  });

  it('counts from the committed offset, and nothing once the group is past the instant', async () => {
    await admin.setOffsets({
      groupId: group,
      topic: topic.topic,
      partitions: [{ partition: 0, offset: '3' }],
    });
    const partly = await lagBefore(admin, {
      groupId: group,
      topic: topic.topic,
      beforeMs: T0,
      lookBackMs: 86400000,
    });
    expect(partly.messages).toBe(2);
    expect(partly.oldestUnreadAt).toBe(new Date(T0 - 2 * 60000).toISOString());

    await admin.setOffsets({
      groupId: group,
      topic: topic.topic,
      partitions: [{ partition: 0, offset: '7' }],
    });
    const past = await lagBefore(admin, {
      groupId: group,
      topic: topic.topic,
      beforeMs: T0,
      lookBackMs: 86400000,
    });
    expect(past).toMatchObject({ messages: 0, oldestUnreadAt: null });
    // Messages after the instant are lag, but not behind on this day.
    const later = await lagBefore(admin, {
      groupId: group,
      topic: topic.topic,
      beforeMs: T0 + 3600000,
      lookBackMs: 86400000,
    });
    expect(later.messages).toBe(3);
    expect(later.oldestUnreadAt).toBe(new Date(T0 + 2 * 60000).toISOString());
  });
});
