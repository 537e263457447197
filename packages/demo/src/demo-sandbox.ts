import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseEnv, KafkaEnv, loadEnv } from '@boarding/config/env';
import { localDir } from '@boarding/config/paths';
import { recreateDatabase } from '@boarding/db/admin';
import { createKafka } from '@boarding/kafka/client';
import { assertDemoTargets, type DemoTarget } from './demo-targets';

const DEMO_DATABASE = 'boarding_demo';
const DEMO_TOPIC_PREFIX = 'demo.validator.taps.';
// The card status feed of the demo's registry (SPEC §10), published by the relay in the demo's
// registry API: its own topic per run, because the demo's database (and so every card's version)
// starts again at each run, and a validator keeps the highest version it saw.
const DEMO_STATUS_TOPIC_PREFIX = 'demo.card.status.';

/** The settings the demo's steps run with: its own database, topic, group, queue and files. */
export type DemoSandbox = { env: Record<string, string>; envFile: string };

/**
 * A fresh sandbox on the local stack for one demo run, so the demo can run again and again
 * (another day, another seed) without its synthetic registry colliding with an earlier run's,
 * and never touches data a developer keeps in the main database or topic: database
 * `boarding_demo` dropped and re-created, a new taps topic and card status topic (earlier demo
 * topics deleted), its
 * own consumer group, BullMQ prefix and export directory. Written to `.local/demo/demo.env`
 * so the user can look around afterwards with the same settings.
 *
 * Refuses (`DemoTargetError`, before any connection) unless the database, Redis, Kafka and SFTP
 * server the steps would reach are the local stack's (`.local/stack.env`) or in `allowTargets`.
 */
export async function createDemoSandbox(
  runId: string,
  allowTargets: readonly DemoTarget[] = [],
): Promise<DemoSandbox> {
  assertDemoTargets(allowTargets);
  const base = new URL(loadEnv(DatabaseEnv).DATABASE_URL);
  await recreateDatabase(base.toString(), DEMO_DATABASE);
  const url = new URL(base);
  url.pathname = `/${DEMO_DATABASE}`;

  const kafkaEnv = loadEnv(KafkaEnv);
  const kafka = createKafka({
    brokers: kafkaEnv.KAFKA_BROKERS,
    clientId: `${kafkaEnv.KAFKA_CLIENT_ID}-demo`,
  });
  const topic = `${DEMO_TOPIC_PREFIX}${runId}`;
  const kadmin = kafka.admin();
  await kadmin.connect();
  try {
    const old = (await kadmin.listTopics()).filter(
      (t) => t.startsWith(DEMO_TOPIC_PREFIX) || t.startsWith(DEMO_STATUS_TOPIC_PREFIX),
    );
    if (old.length > 0) await kadmin.deleteTopics({ topics: old }).catch(() => undefined);
    await kadmin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: 12, configEntries: [{ name: 'retention.ms', value: '-1' }] }],
    });
  } finally {
    await kadmin.disconnect();
  }

  const dir = join(localDir(), 'demo');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const env = {
    DATABASE_URL: url.toString(),
    KAFKA_TAPS_TOPIC: topic,
    STATUS_TOPIC: `${DEMO_STATUS_TOPIC_PREFIX}${runId}`,
    INGEST_GROUP_ID: `boarding-demo-${runId}`,
    EXPORT_QUEUE_PREFIX: 'boarding-demo',
    EXPORT_DIR: join(dir, 'exports'),
  };
  const envFile = join(dir, 'demo.env');
  writeFileSync(
    envFile,
    [
      '# Settings of the last `boarding demo` run (its sandbox on the local stack). To look around:',
      '#   set -a; . .local/demo/demo.env; set +a; npx boarding day show <day>',
      ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return { env, envFile };
}
