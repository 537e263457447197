import type { Db } from '@boarding/db/client';
import { cardStatus, cards } from '@boarding/db/schema';
import { and, between, count, eq } from 'drizzle-orm';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { CARD_STATUS_TOPIC, type CardStatusRecord, cardStatusMessage } from './card-status-message';
import { readStatusPage, statusRecordColumns } from './outbox';
import { ensureStatusTopic } from './status-topic';

/** The topic to republish to is not there: `boarding status init` creates it compacted. */
export class StatusTopicMissingError extends Error {
  readonly code = 'STATUS_TOPIC_MISSING';
  readonly retryable = false;
  constructor(readonly topic: string) {
    super(`topic ${topic} does not exist; create it compacted first (boarding status init)`);
    this.name = 'StatusTopicMissingError';
  }
}

/**
 * The producer of the status feed, as the relay uses it: idempotent with one request in flight, so
 * a retried batch is neither duplicated nor reordered and a card's versions reach the partition in
 * the order they were sent.
 */
export function createStatusProducer(kafka: Kafka): Producer {
  return kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
}

/**
 * Refuses to publish to a topic that is missing (the producer would let the broker auto-create it
 * with `cleanup.policy=delete`, and the snapshot would be deleted by age) or not compacted.
 */
export async function assertStatusTopic(admin: Admin, topic: string): Promise<void> {
  const topics = await admin.listTopics();
  if (!topics.includes(topic)) throw new StatusTopicMissingError(topic);
  // The topic exists, so this only checks its cleanup.policy (and throws if it is not compact).
  await ensureStatusTopic(admin, { topic });
}

/** How many cards have a status: the size of a full publish. */
export async function countCardStatuses(db: Db): Promise<number> {
  const [row] = await db.select({ n: count() }).from(cardStatus);
  return row?.n ?? 0;
}

type PageRecord = CardStatusRecord & { cardId: number };

/** The current status of these cards (those that have one). */
async function readStatusesOf(db: Db, cardIds: readonly number[]): Promise<PageRecord[]> {
  if (cardIds.length === 0) return [];
  // A range on both tables, not `in (…5000 ids)`: PostgreSQL planned the list as a sequential
  // scan of card_status (~105 ms a page at 1.2 M cards, measured); the page's ids are one range.
  const low = Math.min(...cardIds);
  const high = Math.max(...cardIds);
  const wanted = new Set(cardIds);
  const rows = await db
    .select(statusRecordColumns)
    .from(cardStatus)
    .innerJoin(cards, eq(cards.id, cardStatus.cardId))
    .where(and(between(cardStatus.cardId, low, high), between(cards.id, low, high)));
  return rows.filter((r) => wanted.has(r.cardId));
}

/**
 * The records whose version moved on while the page was being sent: `current` read after the
 * send was acknowledged, against the version sent per card. Only a newer version counts.
 */
export function changedSinceSent(
  sent: ReadonlyMap<number, number>,
  current: readonly PageRecord[],
): PageRecord[] {
  return current.filter((r) => {
    const version = sent.get(r.cardId);
    return version !== undefined && r.version > version;
  });
}

/** Messages per second, 0 for an empty or instant run (never Infinity or NaN in a summary). */
export function messagesPerSecond(messages: number, seconds: number): number {
  return seconds > 0 ? messages / seconds : 0;
}

export type PublishFullProgress = { published: number; total: number };

export type PublishFullReport = {
  topic: string;
  /** Cards whose current status was published. */
  cards: number;
  /** Of those, sent again because their status changed while their page was being sent. */
  republished: number;
  seconds: number;
  messagesPerSecond: number;
};

export type PublishFullOptions = {
  db: Db;
  /** Connected by the caller; made by `createStatusProducer` (idempotent, one in flight). */
  producer: Pick<Producer, 'send'>;
  topic?: string;
  /** Cards read and sent per page (one produce request per page). */
  pageSize?: number;
  onProgress?: (progress: PublishFullProgress) => void;
  /** Monotonic milliseconds, for the summary's duration. */
  clock?: () => number;
};

/**
 * `boarding status publish --full`: every card's current status to the topic, page by page in
 * card id order (a new topic, a validator fleet reset). Changes are the outbox relay's job; this
 * is the snapshot, and may run while the relay does (validators keep the highest version).
 *
 * Compaction keeps a key's last message by offset, not by version: a snapshot message for v3
 * appended after the relay's v4 would leave v3 as the card's status on the topic for good. So
 * after each page is acknowledged its cards are read again and any that moved on are sent again,
 * until a read shows what was sent. Any change committed after that read is published by the
 * relay after it, so the topic ends on the newest version.
 */
export async function publishFullStatus(options: PublishFullOptions): Promise<PublishFullReport> {
  const topic = options.topic ?? CARD_STATUS_TOPIC;
  const pageSize = options.pageSize ?? 5000;
  const clock = options.clock ?? (() => performance.now());
  const started = clock();
  let total = await countCardStatuses(options.db);
  let published = 0;
  let republished = 0;
  let messages = 0;
  let afterCardId = 0;
  options.onProgress?.({ published, total });

  const send = async (records: readonly PageRecord[]) => {
    await options.producer.send({ topic, acks: -1, messages: records.map(cardStatusMessage) });
    messages += records.length;
  };

  for (;;) {
    const page = await readStatusPage(options.db, afterCardId, pageSize);
    if (page.length === 0) break;
    let sent = page;
    await send(sent);
    for (;;) {
      const moved = changedSinceSent(
        new Map(sent.map((r) => [r.cardId, r.version])),
        await readStatusesOf(
          options.db,
          sent.map((r) => r.cardId),
        ),
      );
      if (moved.length === 0) break;
      await send(moved);
      republished += moved.length;
      sent = moved;
    }
    published += page.length;
    afterCardId = page[page.length - 1]?.cardId ?? afterCardId;
    // Cards matched for the first time during the run are published too: the total grows.
    total = Math.max(total, published);
    options.onProgress?.({ published, total });
    if (page.length < pageSize) break;
  }

  const seconds = (clock() - started) / 1000;
  return {
    topic,
    cards: published,
    republished,
    seconds,
    messagesPerSecond: messagesPerSecond(messages, seconds),
  };
}
