import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { environmentWith, loadEnv } from '@boarding/config/env';
import { createIngestService } from '@boarding/ingest/ingest-service';
import { IngestEnv } from '@boarding/ingest/settings';
import { ShutdownRegistry } from '@boarding/lifecycle/shutdown';
import { createLogger } from '@boarding/logger/logger';
import { killRunningBoardings, spawnBoarding } from '@boarding/testing/cli-process';
import { createTestDatabase, type TestDatabase } from '@boarding/testing/database';
import { createTestTopic, produce, type TestMessage, type TestTopic } from '@boarding/testing/kafka';
import { tapJson } from '@boarding/testing/taps';
import { TcpProxy } from '@boarding/testing/tcp-proxy';

const quiet = createLogger('test', { destination: new Writable({ write: (_c, _e, done) => done() }) });
const T0 = Date.parse('2020-11-20T08:00:00.000+03:00');

function taps(n: number): TestMessage[] {
  return Array.from({ length: n }, (_, i) => {
    const validatorId = `BUS-${500 + (i % 3)}-1`;
    return {
      key: validatorId,
      value: tapJson({
        validatorId,
        seq: Math.floor(i / 3) + 1,
        cardNo: `04${String(i).padStart(14, '0')}`,
        tappedAt: T0 + i * 1000,
      }),
      timestamp: T0 + i * 1000 + 60_000,
    };
  });
}

/** `boarding ingest …` as its own process, as an operator's script runs it. */
const spawnIngest = (args: string[], env: NodeJS.ProcessEnv) => spawnBoarding(['ingest', ...args], env);

describe('ingest failures a user can see', () => {
  let db: TestDatabase;
  let topic: TestTopic;

  beforeAll(async () => {
    db = await createTestDatabase('ingest_failures');
    topic = await createTestTopic(2);
    await produce(topic.kafka, topic.topic, taps(60));
  });

  afterAll(async () => {
    killRunningBoardings();
    await topic.drop();
    await db.drop();
  });

  const envFor = (extra: Record<string, string> = {}) =>
    environmentWith({
      DATABASE_URL: db.url,
      KAFKA_TAPS_TOPIC: topic.topic,
      INGEST_GROUP_ID: `failures-${randomUUID()}`,
      INGEST_SESSION_TIMEOUT_MS: '6000',
      LOG_LEVEL: 'error',
      ...extra,
    });

  it('refuses a topic that does not exist at once, naming it, instead of waiting forever', async () => {
    const missing = `test.taps.missing-${randomUUID()}`;
    const run = spawnIngest(['--until-caught-up'], envFor({ KAFKA_TAPS_TOPIC: missing }));
    const result = await run.done;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`topic "${missing}" does not exist`);
    expect(result.stderr).toContain('[KAFKA_TOPIC_MISSING]');
  });

  it('a database error that is nobody’s data (a missing table) is retried, never dead-lettered, and shows as a stall', async () => {
    await db.pool.query('alter table tap_keys rename to tap_keys_away');
    try {
      const env = envFor({ INGEST_STALL_SECONDS: '5' });
      const run = spawnIngest(['--until-caught-up', '--timeout', '90'], env);
      const result = await run.done;
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        /ingest stalled: partition \d at offset -1 \(lag \d+, no commit for \d+ s\)/,
      );
      expect(result.stderr).toContain('[INGEST_STALLED]');

      // The same stall on /readyz of a running service, with a metric.
      const shutdown = new ShutdownRegistry(quiet);
      const watched = createIngestService(loadEnv(IngestEnv, env), quiet, shutdown);
      await watched.start({ http: false });
      try {
        let ready = await watched.ops.inject({ url: '/readyz' });
        for (let i = 0; i < 40 && ready.statusCode === 200; i++) {
          await new Promise((r) => setTimeout(r, 500));
          await watched.untilCaughtUp({ intervalMs: 100, timeoutMs: 200 }).catch(() => undefined);
          ready = await watched.ops.inject({ url: '/readyz' });
        }
        expect(ready.statusCode).toBe(503);
        expect(ready.json()).toMatchObject({
          status: 'not ready',
          reason: expect.stringMatching(/ingest stalled: partition/),
        });
        const metrics = await watched.ops.inject({ url: '/metrics' });
        expect(metrics.body).toMatch(/^ingest_stalled_partitions [1-9]/m);
      } finally {
        await shutdown.stop();
      }
      const letters = await db.pool.query('select count(*)::int as n from dead_letters');
      expect(letters.rows[0]?.n).toBe(0);
    } finally {
      await db.pool.query('alter table tap_keys_away rename to tap_keys');
    }
    // With the table back, a run catches up and stores everything.
    const run = spawnIngest(['--until-caught-up', '--json'], envFor());
    const result = await run.done;
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as { messages: number; taps: number; unaccounted: number };
    expect(summary).toMatchObject({ messages: 60, taps: 60, unaccounted: 0 });
  });

  it('exits non-zero when interrupted (SIGTERM) before the group caught up', async () => {
    await db.pool.query('alter table tap_keys rename to tap_keys_away');
    try {
      const run = spawnIngest(['--until-caught-up'], envFor());
      // Long enough for the process to start and the consumer to join; it cannot catch up.
      await new Promise((r) => setTimeout(r, 8000));
      run.child.kill('SIGTERM');
      const result = await run.done;
      expect(result.code).toBe(143);
      expect(result.stderr).toContain('[INGEST_INTERRUPTED]');
    } finally {
      await db.pool.query('alter table tap_keys_away rename to tap_keys');
    }
  });

  it('a database that stops answering mid-run (a hung server): the run still ends at its timeout, says why, lets go, and loses nothing', async () => {
    const own = await createTestDatabase('ingest_hung');
    const ownTopic = await createTestTopic(2);
    const direct = new URL(own.url);
    const proxy = await new TcpProxy(direct.hostname, Number(direct.port)).up();
    try {
      await produce(ownTopic.kafka, ownTopic.topic, taps(3000));
      const viaProxy = new URL(own.url);
      viaProxy.port = String(proxy.port);
      const env = envFor({
        DATABASE_URL: viaProxy.toString(),
        KAFKA_TAPS_TOPIC: ownTopic.topic,
        // Small chunks, one at a time: the run is still going when the first ones are stored.
        INGEST_CHUNK_SIZE: '50',
        INGEST_CONCURRENCY: '1',
      });
      const run = spawnIngest(['--until-caught-up', '--timeout', '12'], env);
      // Once chunks are stored (and so the run's accounting has offsets to read), every
      // connection goes silent with its socket open: the next statement and reading never answer.
      const stored = async () =>
        (await own.pool.query<{ n: number }>('select count(*)::int as n from tap_keys')).rows[0]?.n ?? 0;
      for (let i = 0; i < 3000 && (await stored()) === 0 && !run.exited(); i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      proxy.stall();
      const before = await stored();
      expect(before).toBeGreaterThan(0);
      expect(before).toBeLessThan(3000);

      // It ends at its timeout (plus the bounded shutdown), not when the server comes back.
      const result = await run.done;
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/not caught up after 12 s: \d+ messages behind/);
      expect(result.stderr).toContain('[INGEST_CATCH_UP_TIMEOUT]');
      // Its progress said what it was waiting for.
      expect(result.stderr).toMatch(/; PostgreSQL has not answered for \d+ s/);
      expect(await proxy.clientsClosed()).toBe(true);

      // The hang ends (the proxy closes both sides: the server rolls back the chunk left in its
      // transaction, releasing its tap keys). The next run stores the rest, each message once.
      await proxy.down();
      const again = spawnIngest(['--until-caught-up', '--json'], { ...env, DATABASE_URL: own.url });
      const second = await again.done;
      expect(second.code).toBe(0);
      expect(JSON.parse(second.stdout)).toMatchObject({ unaccounted: 0, doubled: 0 });
      const counts = await own.pool.query<{ keys: number; boardings: number; letters: number }>(
        `select (select count(*)::int from tap_keys) as keys, (select count(*)::int from boardings) as boardings,
                (select count(*)::int from dead_letters) as letters`,
      );
      expect(counts.rows[0]).toEqual({ keys: 3000, boardings: 3000, letters: 0 });
    } finally {
      await proxy.down();
      await ownTopic.drop();
      await own.drop();
    }
    // A loaded CI machine may take a minute to store the first chunk; the timeout itself is 12 s.
  }, 240_000);
});
