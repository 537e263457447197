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

/**
 * Resolves once `lag()` reports nothing behind, polling every `intervalMs`; `onTick` sees each
 * reading after a wait. Rejects when `healthy` throws (a consumer that crashed for good) or
 * after `timeoutMs`.
 */
export async function waitForNoLag(options: {
  lag: () => Promise<GroupLag>;
  intervalMs: number;
  timeoutMs?: number;
  onTick?: (lag: GroupLag) => void;
  healthy?: () => void;
}): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? Number.POSITIVE_INFINITY);
  let current = await options.lag();
  while (current.total > 0) {
    await new Promise((r) => setTimeout(r, options.intervalMs));
    options.healthy?.();
    if (Date.now() > deadline) {
      throw new Error(`still ${current.total} messages behind after ${options.timeoutMs} ms`);
    }
    current = await options.lag();
    options.onTick?.(current);
  }
}
