import { KafkaEnv, loadEnv } from '@boarding/config/env';
import { createDb } from '@boarding/db/client';
import { createKafka } from '@boarding/kafka/client';
import { CARD_STATUS_TOPIC } from '@boarding/status-feed/card-status-message';
import { type CardStatusExplained, explainCardStatus, outboxLag } from '@boarding/status-feed/outbox';
import {
  assertStatusTopic,
  createStatusProducer,
  type PublishFullReport,
  publishFullStatus,
} from '@boarding/status-feed/publish-full';
import { ensureStatusTopic } from '@boarding/status-feed/status-topic';
import type { Command } from 'commander';
import { z } from 'zod';
import { parseCardNo, UsageError, wholeNumber } from '../arguments';
import { emit, type GlobalOptions } from '../output';
import { createProgressBar } from '../progress';

// Kafka's own rule for a topic name; checked here so a typo is a usage error, not a broker error.
const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;

const StatusEnv = KafkaEnv.extend({
  // The card status feed's topic (SPEC §10); tests and a second feed point it elsewhere.
  STATUS_TOPIC: z.string().regex(TOPIC_NAME, 'must be a Kafka topic name').default(CARD_STATUS_TOPIC),
});

type TopicOptions = GlobalOptions & { topic?: string };
type InitOptions = TopicOptions & { partitions?: number };
type PublishOptions = TopicOptions & { full?: boolean };

/** A card that has no status: it is not in the registry. */
class CardUnknownError extends Error {
  readonly code = 'CARD_UNKNOWN';
  readonly retryable = false;
}

/** Kafka settings, checked before any work, and the topic: --topic, else STATUS_TOPIC, else card.status.v1. */
function kafkaFor(options: TopicOptions) {
  if (options.topic !== undefined && !TOPIC_NAME.test(options.topic)) {
    throw new UsageError('--topic must be a Kafka topic name (letters, digits, ".", "_", "-")');
  }
  const env = loadEnv(StatusEnv);
  const kafka = createKafka({ brokers: env.KAFKA_BROKERS, clientId: `${env.KAFKA_CLIENT_ID}-status` });
  return { kafka, topic: options.topic ?? env.STATUS_TOPIC };
}

const int = (n: number): string => n.toLocaleString('en-US');
const iso = (d: Date | null): string => (d === null ? '-' : d.toISOString());

function describePublish(r: PublishFullReport): string {
  const again =
    r.republished > 0 ? `; ${int(r.republished)} sent again (their status changed while publishing)` : '';
  return `published the current status of ${int(r.cards)} cards to ${r.topic} in ${r.seconds.toFixed(1)}s (${int(Math.round(r.messagesPerSecond))} msg/s)${again}`;
}

/** Why the card has its status, in words; never a TC or HES code (explainCardStatus has none). */
function describeReason(reason: CardStatusExplained['reason'], at: Date): string {
  switch (reason.kind) {
    case 'LIVE_MATCH':
      return `live match ${reason.matchId} since ${iso(reason.validFrom)}, HES status ${reason.hesStatus ?? 'not known (the HES service has not been asked)'}`;
    case 'MATCH_ENDED':
      if (reason.retracted) return `its last match ${reason.matchId} was retracted as wrong`;
      if (reason.validTo !== null && reason.validTo.getTime() <= at.getTime()) {
        return `its last match ${reason.matchId} ended at ${iso(reason.validTo)}`;
      }
      return `its match ${reason.matchId} has not started yet`;
    case 'NEVER_MATCHED':
      return 'the card was never matched';
  }
}

function describeShow(r: CardStatusExplained & { at: Date }): string {
  const published = r.published
    ? 'published'
    : 'not yet published: the outbox relay has not sent it (see boarding status lag)';
  return [
    `card ${r.cardNo}: ${r.status} since ${iso(r.since)} (version ${r.version}, ${published})`,
    `  why: ${describeReason(r.reason, r.at)}`,
  ].join('\n');
}

type LagReport = { unsent: number; oldestCreatedAt: Date | null; oldestAgeSeconds: number | null };

function describeLag(r: LagReport): string {
  if (r.unsent === 0) return 'card status outbox: nothing waiting, every status change is published';
  return `card status outbox: ${int(r.unsent)} status change(s) not yet published; the oldest written ${r.oldestAgeSeconds ?? '?'}s ago (${iso(r.oldestCreatedAt)})`;
}

export function registerStatus(program: Command): void {
  const status = program
    .command('status')
    .description("the card status feed: the validators' electronic HES check on card.status.v1");

  status
    .command('init')
    .description(
      'create the status topic compacted (cleanup.policy=compact); refuse one that exists without compaction',
    )
    .option('--partitions <n>', 'partitions of a new topic (default 6)', wholeNumber(1, 10_000))
    .option('--topic <name>', 'the topic (default STATUS_TOPIC, card.status.v1)')
    .option('--json', 'print { topic, created } as JSON')
    .action(async (options: InitOptions) => {
      const { kafka, topic } = kafkaFor(options);
      const admin = kafka.admin();
      await admin.connect();
      try {
        const result = await ensureStatusTopic(admin, { topic, partitions: options.partitions });
        emit(options, result, (r) =>
          r.created
            ? `topic ${r.topic}: created, compacted (${options.partitions ?? 6} partitions)`
            : `topic ${r.topic}: already there, compacted: nothing to do`,
        );
      } finally {
        await admin.disconnect();
      }
    });

  status
    .command('publish')
    .description("republish every card's current status (--full): for a new topic or a validator fleet reset")
    .option(
      '--full',
      "send every card's current status (the snapshot); changes are published by the outbox relay as they commit",
    )
    .option('--topic <name>', 'the topic (default STATUS_TOPIC, card.status.v1)')
    .option('--json', 'print { topic, cards, republished, seconds, messagesPerSecond } as JSON')
    .action(async (options: PublishOptions) => {
      if (!options.full) {
        throw new UsageError(
          "status publish needs --full: it republishes every card's current status (a snapshot, for a new topic or a validator fleet reset); changes are published by the outbox relay as they commit",
        );
      }
      const { kafka, topic } = kafkaFor(options);
      const { db, pool } = createDb({ pool: { max: 2 } });
      const producer = createStatusProducer(kafka);
      const bar = createProgressBar('status publish');
      let barStarted = false;
      try {
        const admin = kafka.admin();
        await admin.connect();
        try {
          await assertStatusTopic(admin, topic);
        } finally {
          await admin.disconnect();
        }
        await producer.connect();
        const report = await publishFullStatus({
          db,
          producer,
          topic,
          onProgress: ({ published, total }) => {
            if (!barStarted) {
              bar.start(total, published, { phase: topic, rows: published });
              barStarted = true;
            }
            bar.setTotal(total);
            bar.update(published, { phase: topic, rows: published });
          },
        });
        if (barStarted) bar.stop();
        barStarted = false;
        emit(options, report, describePublish);
      } finally {
        if (barStarted) bar.stop();
        await producer.disconnect();
        await pool.end();
      }
    });

  status
    .command('show')
    .description(
      "one card's status, since when, its version, whether that version is published, and why (never a TC or HES)",
    )
    .argument('<card>', 'the printed card number (8-20 hex)')
    .option('--json', 'print { cardNo, status, since, version, published, reason, at } as JSON')
    .action(async (card: string, options: GlobalOptions) => {
      const cardNo = parseCardNo(card, 'CARD');
      const at = new Date();
      const { db, pool } = createDb({ pool: { max: 1 } });
      try {
        const explained = await explainCardStatus(db, cardNo, at);
        if (explained === null) {
          throw new CardUnknownError(
            `card ${cardNo} has no status: it is not in the registry (validators refuse it as not matched)`,
          );
        }
        emit(options, { ...explained, at }, describeShow);
      } finally {
        await pool.end();
      }
    });

  status
    .command('lag')
    .description('status changes in the outbox not yet published, and how old the oldest is')
    .option('--json', 'print { unsent, oldestCreatedAt, oldestAgeSeconds } as JSON')
    .action(async (options: GlobalOptions) => {
      const { db, pool } = createDb({ pool: { max: 1 } });
      try {
        const { unsent, oldestCreatedAt } = await outboxLag(db);
        // The age by this host's clock against the database's: clamped, a skew never shows as negative.
        const oldestAgeSeconds =
          oldestCreatedAt === null
            ? null
            : Math.max(0, Math.round((Date.now() - oldestCreatedAt.getTime()) / 100) / 10);
        emit(options, { unsent, oldestCreatedAt, oldestAgeSeconds }, describeLag);
      } finally {
        await pool.end();
      }
    });
}
