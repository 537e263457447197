import { setTimeout as sleep } from 'node:timers/promises';
import type { createKafka } from '@boarding/kafka/client';

type Kafka = ReturnType<typeof createKafka>;
type Producer = ReturnType<Kafka['producer']>;
type OutMessage = Parameters<Producer['send']>[0]['messages'][number];

/** One message of the undisturbed run's topic, as it is copied: same partition, bytes, timestamp. */
export type FeedMessage = {
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: string;
  headers: OutMessage['headers'];
};

/**
 * The messages of `topic`, every partition read to its end, in the order they were produced
 * as well as the topic can tell: merged by timestamp (the simulator stamps each message with
 * its upload time and produces in that order), each partition's own order kept exactly.
 */
export async function readTopic(kafka: Kafka, topic: string, groupId: string): Promise<FeedMessage[]> {
  const admin = kafka.admin();
  await admin.connect();
  let ends: { partition: number; high: number; low: number }[];
  try {
    ends = (await admin.fetchTopicOffsets(topic)).map((p) => ({
      partition: p.partition,
      high: Number(p.high),
      low: Number(p.low),
    }));
  } finally {
    await admin.disconnect();
  }
  const byPartition = new Map<number, FeedMessage[]>(ends.map((e) => [e.partition, []]));
  const expected = ends.reduce((n, e) => n + (e.high - e.low), 0);
  let read = 0;
  if (expected > 0) {
    const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        consumer
          .run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              const list = byPartition.get(batch.partition);
              for (const m of batch.messages) {
                list?.push({
                  partition: batch.partition,
                  offset: Number(m.offset),
                  key: m.key ?? null,
                  value: m.value ?? null,
                  timestamp: m.timestamp,
                  headers: m.headers,
                });
                read++;
              }
              if (read >= expected) resolve();
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect();
    }
  }
  const admin2 = kafka.admin();
  await admin2.connect();
  await admin2.deleteGroups([groupId]).catch(() => undefined);
  await admin2.disconnect();
  return mergeByTimestamp([...byPartition.values()]);
}

/** k-way merge by timestamp (ties: lower partition first); each list's own order is kept. */
export function mergeByTimestamp(lists: FeedMessage[][]): FeedMessage[] {
  const heads = lists.map(() => 0);
  const out: FeedMessage[] = [];
  for (;;) {
    let best = -1;
    let bestTs = Number.POSITIVE_INFINITY;
    for (let i = 0; i < lists.length; i++) {
      const m = lists[i]?.[heads[i] ?? 0];
      if (!m) continue;
      const ts = Number(m.timestamp);
      if (ts < bestTs) {
        best = i;
        bestTs = ts;
      }
    }
    if (best < 0) return out;
    const list = lists[best] ?? [];
    const m = list[heads[best] ?? 0];
    if (m) out.push(m);
    heads[best] = (heads[best] ?? 0) + 1;
  }
}

/** Messages per produce request: far below the broker's 1 MB even with 16 KiB+ malformed values. */
const MAX_BATCH_BYTES = 512 * 1024;
const MAX_BATCH_MESSAGES = 1000;

export type FeedStats = { total: number; sent: number; inDoubt: number; resent: number };

/**
 * Feeds the undisturbed run's messages into the soak's topic at an even pace until `until`, as
 * validators upload a day, while the chaos restarts Kafka. Exactly once: the producer never
 * retries by itself; a send that failed is judged by the partition's end offset (a request
 * holds one batch per partition, appended whole or not at all): already there, or sent again.
 */
export class PacedFeed {
  readonly stats: FeedStats;
  private readonly next = new Map<number, number>();
  private producer: Producer | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
    private readonly messages: FeedMessage[],
    private readonly progress: (message: string) => void,
  ) {
    this.stats = { total: messages.length, sent: 0, inDoubt: 0, resent: 0 };
  }

  async run(until: number, signal: AbortSignal): Promise<void> {
    const start = Date.now();
    const span = Math.max(1, until - start);
    let lastSaid = start;
    while (this.stats.sent < this.messages.length) {
      if (signal.aborted) throw new Error('interrupted');
      const due = Math.min(
        this.messages.length,
        Math.ceil((this.messages.length * (Date.now() - start)) / span),
      );
      if (due > this.stats.sent) await this.send(this.messages.slice(this.stats.sent, due), signal);
      if (Date.now() - lastSaid > 30000) {
        this.progress(`feed: ${this.stats.sent} of ${this.stats.total} messages in the soak topic`);
        lastSaid = Date.now();
      }
      if (this.stats.sent < this.messages.length) await sleep(500);
    }
    await this.producer?.disconnect().catch(() => undefined);
    this.producer = undefined;
  }

  private async send(chunk: FeedMessage[], signal: AbortSignal): Promise<void> {
    const groups = new Map<number, FeedMessage[]>();
    for (const m of chunk) {
      const g = groups.get(m.partition) ?? [];
      g.push(m);
      groups.set(m.partition, g);
    }
    for (const [partition, list] of groups) {
      let batch: FeedMessage[] = [];
      let bytes = 0;
      for (const m of list) {
        const size = (m.value?.length ?? 0) + (m.key?.length ?? 0) + 64;
        if (batch.length > 0 && (bytes + size > MAX_BATCH_BYTES || batch.length >= MAX_BATCH_MESSAGES)) {
          await this.sendExactlyOnce(partition, batch, signal);
          batch = [];
          bytes = 0;
        }
        batch.push(m);
        bytes += size;
      }
      if (batch.length > 0) await this.sendExactlyOnce(partition, batch, signal);
    }
  }

  private async connectedProducer(): Promise<Producer> {
    if (this.producer) return this.producer;
    // No retries inside kafkajs: a retried request whose first try was appended (its answer lost
    // to a broker going down) would append the batch twice.
    const producer = this.kafka.producer({
      allowAutoTopicCreation: false,
      maxInFlightRequests: 1,
      retry: { retries: 0 },
    });
    await producer.connect();
    this.producer = producer;
    return producer;
  }

  private async sendExactlyOnce(partition: number, batch: FeedMessage[], signal: AbortSignal): Promise<void> {
    const before = this.next.get(partition) ?? 0;
    for (;;) {
      if (signal.aborted) throw new Error('interrupted');
      try {
        const producer = await this.connectedProducer();
        await producer.send({
          topic: this.topic,
          acks: -1,
          timeout: 10000,
          messages: batch.map((m) => ({
            partition,
            key: m.key,
            value: m.value,
            timestamp: m.timestamp,
            headers: m.headers,
          })),
        });
        break;
      } catch {
        await this.producer?.disconnect().catch(() => undefined);
        this.producer = undefined;
        this.stats.inDoubt++;
        // A request the broker had already read may still be appended after the connection is
        // gone: judge only once the end offset holds still.
        let end = await this.endOffset(partition, signal);
        for (let settled = 0; settled < 2; ) {
          await sleep(1500);
          const again = await this.endOffset(partition, signal);
          settled = again === end ? settled + 1 : 0;
          end = again;
        }
        if (end === before + batch.length) break;
        if (end !== before) {
          throw new Error(
            `feed: partition ${partition} ends at ${end}, expected ${before} or ${before + batch.length}`,
          );
        }
        this.stats.resent++;
      }
    }
    this.next.set(partition, before + batch.length);
    this.stats.sent += batch.length;
  }

  /** The partition's end offset, asked until the broker answers. */
  private async endOffset(partition: number, signal: AbortSignal): Promise<number> {
    for (;;) {
      if (signal.aborted) throw new Error('interrupted');
      const admin = this.kafka.admin();
      try {
        await admin.connect();
        const offsets = await admin.fetchTopicOffsets(this.topic);
        const p = offsets.find((o) => o.partition === partition);
        if (p) return Number(p.high);
      } catch {
        // The broker is away (the chaos restarts it): ask again.
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
      await sleep(1000);
    }
  }
}

/** Per partition, the end offsets of two topics that must hold the same messages. */
export async function endOffsets(kafka: Kafka, topic: string): Promise<Map<number, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]));
  } finally {
    await admin.disconnect();
  }
}
