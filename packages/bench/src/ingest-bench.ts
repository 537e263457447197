import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { environmentWith, KafkaEnv, loadEnv } from '@boarding/config/env';
import { findRepoRoot } from '@boarding/config/paths';
import { parseValidatorMessage, serviceDayOf } from '@boarding/contracts/tap';
import { loadKeyring } from '@boarding/encryption/load-keyring';
import { createKafka } from '@boarding/kafka/client';
import { importMatches } from '@boarding/registry/import/import-matches';
import { planDay } from '@boarding/simulator/day';
import { createKafkaSink, produceDay } from '@boarding/simulator/produce-day';
import { writeRegistryRowsCsv } from '@boarding/simulator/registry-csv';
import { createTestDatabase } from '@boarding/testing/database';
import { from as copyFrom } from 'pg-copy-streams';
import type { Bench } from './harness';
import { consumeAll } from './measure-kafka';

const DEFAULT_TAPS = 2_000_000;
const DAY = '2020-11-20';

/** Run `boarding ingest --until-caught-up` as its own process; wall time and peak RSS. */
async function runIngest(env: NodeJS.ProcessEnv): Promise<{ seconds: number; peakRssMiB: number }> {
  const bin = join(findRepoRoot(), 'node_modules', '.bin', 'boarding');
  const started = process.hrtime.bigint();
  const child = spawn(bin, ['ingest', '--until-caught-up', '--json'], {
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let peakKiB = 0;
  const poll = setInterval(() => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const hwm = /VmHWM:\s+(\d+)/.exec(status);
      if (hwm) peakKiB = Math.max(peakKiB, Number(hwm[1]));
    } catch {
      // exited
    }
  }, 100);
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  clearInterval(poll);
  if (code !== 0) throw new Error(`boarding ingest exited with ${code}`);
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, peakRssMiB: peakKiB / 1024 };
}

/**
 * Ingest of a simulated day (SPEC §2 faults included) from Kafka into an empty database, as the
 * operator runs it (`boarding ingest --until-caught-up`, its own process), against the two
 * bounds measured on the same messages in the same run: a raw kafkajs consume doing nothing, and
 * a PostgreSQL COPY of the same tap rows into the same table. Then the replay case: the whole
 * topic again, every message already stored.
 */
export const ingestBench: Bench = {
  name: 'ingest',
  description:
    'simulated 2 M-tap day: boarding ingest --until-caught-up vs raw consume and COPY bounds; replay; two processes',
  async run(ctx) {
    const taps = ctx.options.taps ?? DEFAULT_TAPS;
    const kafkaEnv = loadEnv(KafkaEnv);
    const kafka = createKafka({ brokers: kafkaEnv.KAFKA_BROKERS, clientId: 'boarding-bench' });
    const topic = `bench.ingest.${randomUUID()}`;
    const admin = kafka.admin();
    await admin.connect();
    const closeAdmin = ctx.cleanup('kafka admin', () => admin.disconnect());
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: 12, configEntries: [{ name: 'retention.ms', value: '-1' }] }],
    });
    const dropTopic = ctx.cleanup(`topic ${topic}`, () => admin.deleteTopics({ topics: [topic] }));
    const database = await createTestDatabase('bench_ingest');
    const dropDb = ctx.cleanup('bench database', () => database.drop());
    const dir = await mkdtemp(join(tmpdir(), 'bench-ingest-'));
    const removeDir = ctx.cleanup('temp dir', () => rm(dir, { recursive: true, force: true }));
    try {
      ctx.progress(`simulating ${taps} taps into ${topic}`);
      const plan = planDay({ day: DAY, taps, seed: 42 });
      const sink = createKafkaSink({ kafka, topic });
      await sink.connect();
      try {
        await produceDay({ plan, sink });
      } finally {
        await sink.disconnect();
      }
      ctx.progress(`importing the day's registry (${plan.truth.registryRows} rows)`);
      const file = join(dir, 'registry.csv');
      await writeRegistryRowsCsv(file, plan.registryRows());
      const keyring = loadKeyring();
      await importMatches({
        ctx: { db: database.db, keyring, actor: { id: 'bench', channel: 'IMPORT' } },
        pool: database.pool,
        input: { path: file },
      });
      // A registry as it stands in service: imported days ago and vacuumed since (autovacuum
      // comes round within minutes of a bulk import), so the as-of lookups are index-only scans.
      await database.pool.query('vacuum (analyze) cards, persons, matches');

      ctx.progress('bound 1: raw kafkajs consume of the same messages');
      const consume = await consumeAll(kafka, topic, `bench-raw-${randomUUID()}`, plan.messageCount);

      ctx.progress('bound 2: COPY of the same tap rows into boardings');
      const copySeconds = await copyTaps(database.pool, plan.messages());
      const copyRate = plan.truth.expected.stored / copySeconds;
      await database.pool.query('truncate boardings');

      const env = environmentWith({ DATABASE_URL: database.url, KAFKA_TAPS_TOPIC: topic, LOG_LEVEL: 'warn' });
      ctx.progress('end to end: boarding ingest --until-caught-up from empty');
      const first = await runIngest({ ...env, INGEST_GROUP_ID: `bench-ingest-${randomUUID()}` });
      const { rows } = await database.pool.query<{ n: number }>('select count(*)::int as n from boardings');
      if (rows[0]?.n !== plan.truth.expected.stored) {
        throw new Error(`stored ${rows[0]?.n} taps, the simulator expects ${plan.truth.expected.stored}`);
      }
      const rate = plan.messageCount / first.seconds;
      const bound = Math.min(consume.value, plan.messageCount / copySeconds);
      ctx.record({ figure: 'end-to-end', value: rate, unit: 'taps/s', bound });
      ctx.record({ figure: 'end-to-end-time', value: first.seconds, unit: 's' });
      ctx.record({ figure: 'raw-consume', value: consume.value, unit: 'msgs/s' });
      ctx.record({ figure: 'copy-same-rows', value: copyRate, unit: 'rows/s' });
      ctx.record({ figure: 'peak-rss', value: first.peakRssMiB, unit: 'MiB' });

      ctx.progress('replay: the whole topic again with a new group, every message already stored');
      const replay = await runIngest({ ...env, INGEST_GROUP_ID: `bench-replay-${randomUUID()}` });
      ctx.record({
        figure: 'replay-all-duplicates',
        value: plan.messageCount / replay.seconds,
        unit: 'taps/s',
      });
      ctx.record({ figure: 'replay-peak-rss', value: replay.peakRssMiB, unit: 'MiB' });

      // Scale out (issue 16): the same day from empty by two processes of one consumer group, as
      // production runs them (each takes half of the 12 partitions). Both exit once the group
      // has no lag; the figure is the day over the wall time of the pair.
      ctx.progress('scale out: two ingest processes in one group, from empty again');
      await database.pool.query(
        'truncate boardings, tap_keys, duplicate_taps, dead_letters, heartbeat_log, validator_days, validator_heartbeats',
      );
      const pairGroup = `bench-two-${randomUUID()}`;
      const pairStarted = process.hrtime.bigint();
      const pair = await Promise.all([
        runIngest({ ...env, INGEST_GROUP_ID: pairGroup }),
        runIngest({ ...env, INGEST_GROUP_ID: pairGroup }),
      ]);
      const pairSeconds = Number(process.hrtime.bigint() - pairStarted) / 1e9;
      const stored = await database.pool.query<{ n: number }>('select count(*)::int as n from boardings');
      if (stored.rows[0]?.n !== plan.truth.expected.stored) {
        throw new Error(
          `two processes stored ${stored.rows[0]?.n} taps, the simulator expects ${plan.truth.expected.stored}`,
        );
      }
      const pairRate = plan.messageCount / pairSeconds;
      ctx.record({ figure: 'two-processes', value: pairRate, unit: 'taps/s', bound });
      ctx.record({ figure: 'two-processes-vs-one', value: pairRate / rate, unit: '×' });
      ctx.record({
        figure: 'two-processes-peak-rss',
        value: Math.max(...pair.map((p) => p.peakRssMiB)),
        unit: 'MiB',
      });
    } finally {
      await removeDir();
      await dropDb();
      await dropTopic();
      await closeAdmin();
    }
  },
};

/** COPY the valid taps of the day's messages into the partitioned boardings table. */
async function copyTaps(
  pool: import('pg').Pool,
  messages: Iterable<{ key: string; value: string; timestamp: string }>,
): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('select ensure_boardings_partition($1::date)', [DAY]);
    const seen = new Set<string>();
    function* lines(): Generator<string> {
      let chunk = '';
      for (const m of messages) {
        const parsed = parseValidatorMessage(m.value);
        if (!parsed.ok || parsed.kind !== 'tap') continue;
        const t = parsed.tap;
        const key = `${t.validatorId}:${t.seq}`;
        if (seen.has(key) || serviceDayOf(t.tappedAtMs) !== DAY) continue;
        seen.add(key);
        const n = (v: string | null) => v ?? '\\N';
        chunk += `${DAY}\t${t.validatorId}\t${t.seq}\t${t.cardNo}\t${new Date(t.tappedAtMs).toISOString()}\t${t.mode}\t${t.lineCode}\t${n(t.vehicleId)}\t${n(t.stopCode)}\t${t.result}\t${n(t.rejectReason)}\t\\N\t0\t0\t${new Date(Number(m.timestamp)).toISOString()}\n`;
        if (chunk.length > 1 << 20) {
          yield chunk;
          chunk = '';
        }
      }
      yield chunk;
    }
    // Parsing happens before the clock starts: the bound is PostgreSQL's, not the parser's.
    const text = [...lines()];
    const started = process.hrtime.bigint();
    await pipeline(
      Readable.from(text),
      client.query(
        copyFrom(
          'copy boardings (service_day, validator_id, seq, card_no, tapped_at, mode, line_code, vehicle_id, stop_code, result, reject_reason, match_id, kafka_partition, kafka_offset, kafka_timestamp) from stdin',
        ),
      ),
    );
    return Number(process.hrtime.bigint() - started) / 1e9;
  } finally {
    client.release();
  }
}
