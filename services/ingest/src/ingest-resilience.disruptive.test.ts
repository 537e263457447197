import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadEnv } from '@boarding/config/env';
import { findRepoRoot } from '@boarding/config/paths';
import { createIngestService } from '@boarding/ingest/ingest-service';
import { IngestEnv } from '@boarding/ingest/settings';
import { ShutdownRegistry } from '@boarding/lifecycle/shutdown';
import { createLogger } from '@boarding/logger/logger';
import { startServer, stopServer } from '@boarding/stack/stack';
import { createTestDatabase, type TestDatabase } from '@boarding/testing/database';
import { createTestTopic, produce, type TestMessage, type TestTopic } from '@boarding/testing/kafka';
import { ingestTestEnv } from './ingest.test-helpers';

const quiet = createLogger('test', { destination: new Writable({ write: (_c, _e, done) => done() }) });
const T0 = Date.parse('2020-11-20T06:00:00.000+03:00');

/** `taps` valid taps over 40 validators, each numbering its own taps 1, 2, 3, … */
function day(taps: number): TestMessage[] {
  const seqs = new Map<string, number>();
  return Array.from({ length: taps }, (_, i) => {
    const validatorId = `BUS-${100 + (i % 40)}-1`;
    const seq = (seqs.get(validatorId) ?? 0) + 1;
    seqs.set(validatorId, seq);
    const at = T0 + i * 100;
    const value = JSON.stringify({
      schema: 'tap.v1',
      validatorId,
      seq,
      cardNo: `04${String(i % 5000).padStart(14, '0')}`,
      tappedAt: new Date(at).toISOString(),
      mode: 'BUS',
      lineCode: '202',
      vehicleId: '35-ESH-3041',
      stopCode: null,
      result: 'ACCEPTED',
      rejectReason: null,
    });
    return { key: validatorId, value, timestamp: at + 30_000 };
  });
}

async function counts(db: TestDatabase) {
  const { rows } = await db.pool.query<{
    taps: number;
    keys: number;
    progress: number;
    distinct_taps: number;
  }>(
    `select (select count(*) from boardings)::int as taps,
            (select count(*) from tap_keys)::int as keys,
            (select coalesce(sum(tap_count), 0) from validator_days)::int as progress,
            (select count(distinct (validator_id, seq)) from boardings)::int as distinct_taps`,
  );
  return rows[0];
}

describe('ingest resilience', () => {
  let db: TestDatabase;
  let topic: TestTopic;
  const TAPS = 40_000;

  beforeAll(async () => {
    db = await createTestDatabase('ingest_crash');
    topic = await createTestTopic(4);
    await produce(topic.kafka, topic.topic, day(TAPS));
  });

  afterAll(async () => {
    await topic.drop();
    await db.drop();
  });

  it('loses and duplicates no tap when the ingest process is killed -9 mid-run, again and again', async () => {
    const groupId = `crash-${randomUUID()}`;
    const bin = join(findRepoRoot(), 'node_modules', '.bin', 'boarding');
    const run = (): ChildProcess =>
      spawn(bin, ['ingest', '--until-caught-up'], {
        env: ingestTestEnv(db, topic, groupId),
        stdio: 'ignore',
      });
    let kills = 0;
    for (let round = 0; round < 3; round++) {
      const before = (await counts(db))?.taps ?? 0;
      const child = run();
      // Kill once this run has stored something more, but before it could finish.
      for (let i = 0; i < 600; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const now = (await counts(db))?.taps ?? 0;
        if (now > before + 2000 || child.exitCode !== null) break;
      }
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        kills++;
      }
      if (child.exitCode === null && child.signalCode === null)
        await new Promise((r) => child.once('exit', r));
    }
    expect(kills).toBeGreaterThanOrEqual(2);
    const final = run();
    const code = await new Promise<number | null>((r) => final.once('exit', (c) => r(c)));
    expect(code).toBe(0);
    expect(await counts(db)).toEqual({ taps: TAPS, keys: TAPS, progress: TAPS, distinct_taps: TAPS });
  });

  it('survives a PostgreSQL restart mid-run: the batch is retried, nothing is lost', async () => {
    const other = await createTestDatabase('ingest_pg_restart');
    try {
      const env = loadEnv(IngestEnv, ingestTestEnv(other, topic, `pgrestart-${randomUUID()}`));
      const shutdown = new ShutdownRegistry(quiet);
      const service = createIngestService(env, quiet, shutdown);
      await service.start({ http: false });
      for (let i = 0; i < 300; i++) {
        const c = await other.pool
          .query<{ n: number }>('select count(*)::int as n from boardings')
          .catch(() => undefined);
        if ((c?.rows[0]?.n ?? 0) > 2000) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await stopServer('postgres');
      await new Promise((r) => setTimeout(r, 1500));
      await startServer('postgres');
      try {
        await service.untilCaughtUp({ intervalMs: 200, timeoutMs: 120000 });
      } finally {
        await shutdown.stop();
      }
      const retries = (await service.metrics.retries.get()).values[0]?.value ?? 0;
      expect(retries).toBeGreaterThan(0);
      expect(await counts(other)).toEqual({ taps: TAPS, keys: TAPS, progress: TAPS, distinct_taps: TAPS });
    } finally {
      await other.drop();
    }
  });
});
