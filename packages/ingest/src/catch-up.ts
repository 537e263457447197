import type { Admin } from 'kafkajs';

export type GroupLag = { total: number; partitions: { partition: number; lag: number }[] };

/**
 * How far the group is behind the end of the topic: per partition, the high watermark minus the
 * committed offset (or minus the low watermark when the group never committed there).
 */
export async function groupLag(admin: Admin, groupId: string, topic: string): Promise<GroupLag> {
  const [ends, committed] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] }),
  ]);
  const byPartition = new Map(
    (committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)] as const),
  );
  const partitions = ends.map((e) => {
    const done = byPartition.get(e.partition) ?? -1;
    const from = done >= 0 ? done : Number(e.low);
    return { partition: e.partition, lag: Math.max(0, Number(e.high) - from) };
  });
  return { total: partitions.reduce((a, p) => a + p.lag, 0), partitions };
}
