import { join } from 'node:path';
import { environmentWith } from '@boarding/config/env';
import { importMatches } from '@boarding/registry/import/import-matches';
import type { generateDay } from '@boarding/simulator/day';
import { writeRegistryRowsCsv } from '@boarding/simulator/registry-csv';
import type { TestDatabase } from '@boarding/testing/database';
import type { TestTopic } from '@boarding/testing/kafka';
import { createKeyringForTests } from '@boarding/testing/keyring';

/** The ingest's settings for a test database, topic and group (what a test's child process gets). */
export function ingestTestEnv(db: TestDatabase, topic: TestTopic, groupId: string) {
  return environmentWith({
    DATABASE_URL: db.url,
    KAFKA_TAPS_TOPIC: topic.topic,
    INGEST_GROUP_ID: groupId,
    INGEST_CHUNK_SIZE: '500',
    // A killed member holds its partitions for the session timeout: keep restarts quick.
    INGEST_SESSION_TIMEOUT_MS: '6000',
    LOG_LEVEL: 'error',
  });
}

/** A simulated day's registry file, imported as the operator would: matched taps depend on it. */
export async function importSimulatedRegistry(
  db: TestDatabase,
  dir: string,
  rows: ReturnType<typeof generateDay>['registryRows'],
): Promise<void> {
  const file = join(dir, `registry-${db.name}.csv`);
  await writeRegistryRowsCsv(file, rows);
  const ctx = {
    db: db.db,
    keyring: createKeyringForTests(),
    actor: { id: 'test', channel: 'IMPORT' as const },
  };
  const imported = await importMatches({ ctx, pool: db.pool, input: { path: file } });
  if (imported.outcome !== 'APPLIED')
    throw new Error(`registry import ${imported.outcome}, expected APPLIED`);
}
