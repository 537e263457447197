import { type Admin, ConfigResourceTypes } from 'kafkajs';
import { CARD_STATUS_TOPIC } from './card-status-message';

export type StatusTopicResult = { topic: string; created: boolean };

/**
 * Creates `card.status.v1` compacted (SPEC §10) if it does not exist, and refuses one that exists
 * without `cleanup.policy=compact`: a deleting topic would drop the status of cards that have not
 * changed for a while, and a validator starting fresh would refuse them.
 */
export async function ensureStatusTopic(
  admin: Admin,
  options: { topic?: string; partitions?: number } = {},
): Promise<StatusTopicResult> {
  const topic = options.topic ?? CARD_STATUS_TOPIC;
  const topics = await admin.listTopics();
  if (!topics.includes(topic)) {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic,
          numPartitions: options.partitions ?? 6,
          replicationFactor: 1,
          configEntries: [
            { name: 'cleanup.policy', value: 'compact' },
            // Tombstones and old versions go soon after compaction; the newest per card stays.
            { name: 'min.cleanable.dirty.ratio', value: '0.1' },
          ],
        },
      ],
    });
    return { topic, created: true };
  }
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy'] }],
  });
  const policy = resources[0]?.configEntries.find((e) => e.configName === 'cleanup.policy')?.configValue;
  if (policy !== 'compact') {
    throw new Error(
      `topic ${topic} exists with cleanup.policy=${policy ?? '?'}; it must be compact (SPEC §10)`,
    );
  }
  return { topic, created: false };
}
