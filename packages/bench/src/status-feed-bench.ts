import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { environmentWith, KafkaEnv, loadEnv } from '@boarding/config/env';
import { loadKeyring } from '@boarding/encryption/load-keyring';
import { createKafka } from '@boarding/kafka/client';
import { importMatches } from '@boarding/registry/import/import-matches';
import { unmatchCard } from '@boarding/registry/verbs/unmatch-card';
import { REGISTRY_CSV_HEADER, registryCsvLines, writeCsvLines } from '@boarding/simulator/registry-csv';
import { createTestDatabase, type TestDatabase } from '@boarding/testing/database';
import { runUndos } from './cleanups';
import type { Bench, BenchContext } from './harness';
import { WARMUP_MESSAGES } from './measure-kafka';
import { sampleIdle } from './output';
import { registryLinePart, summariseLatencies } from './registry-api-bench-load';
import {
  commandCpuSeconds,
  cpuSecondsBetween,
  machineCpuSeconds,
  processCpuSeconds,
  type ServedChild,
  serveChild,
} from './registry-api-bench-processes';
import { lastJson, logTail, spawnBoarding } from './soak-process';
import {
  boundMessage,
  ChangeLedger,
  changeSchedule,
  chunk,
  dueCount,
  type StatusRow,
} from './status-feed-bench-load';

/** SPEC §1: about 1.2 M matched cards. `--taps N` seeds N matched cards instead. */
const DEFAULT_CARDS = 1_200_000;
const SEED = 7;
/** Two imports side by side, each with its own sealing threads and backend (registry-api bench). */
const SEED_PARTS = 2;
/** `boarding status init`'s default: the partitions a new status topic gets. */
const PARTITIONS = 6;
/** publishFullStatus's page (one produce request per page); the bound sends the same requests. */
const PAGE_SIZE = 5000;
/** Issue 14: 100 changes/s for ~25 s, p99 change-to-publish under 1 s. */
const CHANGES = { rate: 100, seconds: 25, warmUp: 20 } as const;
/** After the last commit, how long every change has to reach the consumer before the bench fails. */
const SEEN_DEADLINE_MS = 30_000;
const GOAL = { ratio: 0.5, p99: 1000 } as const;

type Kafka = ReturnType<typeof createKafka>;
type Message = { key: string; value: string };

const since = (t0: number) => (performance.now() - t0) / 1000;
const count = (n: number) => n.toLocaleString('en-US');

/** What a `boarding` child reads: `.local/stack.env`, this environment, then `overrides`. */
function boardingEnv(overrides: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(environmentWith(overrides)).filter((e): e is [string, string] => e[1] !== undefined),
  );
}

/**
 * `boarding <args>` to its end, its CPU seconds sampled from /proc while it runs (the last sample
 * before it exits: a lower bound by at most one interval). Rejects with its log's tail on failure.
 */
async function runSampled(args: string[], env: Record<string, string>, log: string) {
  const run = spawnBoarding(args, env, log);
  let cpu = 0;
  const timer = setInterval(() => {
    cpu = Math.max(cpu, processCpuSeconds(run.pid));
  }, 200);
  const exit = await run.done.finally(() => clearInterval(timer));
  if (exit.code !== 0) {
    throw new Error(`boarding ${args.join(' ')} failed (exit ${exit.code}): ${logTail(log, 6).join('\n  ')}`);
  }
  return { stdout: exit.stdout, cpu };
}

/** The simulator's registry lines (seed 7) of the cards of one import file out of `parts`. */
function* registryLinesOf(cards: number, part: number, parts: number): Generator<string> {
  for (const line of registryCsvLines({ cards, seed: SEED })) {
    if (registryLinePart(line, cards, parts) === part) yield line;
  }
}

/**
 * The simulator's registry of `cards` cards (seed 7) through the import path, as the
 * registry-api bench seeds it: two files of disjoint cards (`registryLinePart`) imported side by
 * side. The status triggers fill card_status and the outbox at each import's COMMIT.
 */
async function seedRegistry(ctx: BenchContext, database: TestDatabase, dir: string, cards: number) {
  const t0 = performance.now();
  const parts = Math.min(SEED_PARTS, cards);
  const paths: string[] = [];
  for (let part = 0; part < parts; part++) {
    const path = join(dir, `registry-${part + 1}.csv`);
    await writeCsvLines(path, REGISTRY_CSV_HEADER, registryLinesOf(cards, part, parts));
    paths.push(path);
  }
  ctx.progress(`seeding ${count(cards)} matched cards with the import path, ${parts} files side by side`);
  const keyring = loadKeyring();
  const reports = await Promise.all(
    paths.map((path) =>
      importMatches({
        ctx: { db: database.db, keyring, actor: { id: 'boarding-bench', channel: 'IMPORT' } },
        pool: database.pool,
        input: { path },
      }),
    ),
  );
  const refused = reports.find((r) => r.outcome !== 'APPLIED');
  if (refused)
    throw new Error(`seeding: an import ended ${refused.outcome} (${refused.invalid} invalid rows)`);
  // Production published the import's outbox rows long ago: the relay starts with nothing old.
  const marked = await database.pool.query(
    'update card_status_outbox set sent_at = now() where sent_at is null',
  );
  await database.pool.query('vacuum analyze');
  ctx.progress(
    `seeded in ${since(t0).toFixed(1)} s, ${count(marked.rowCount ?? 0)} outbox rows marked sent, vacuum analyze done (not part of the figures)`,
  );
}

/** A private compacted topic made by `boarding status init` (ensureStatusTopic), deleted afterwards. */
async function privateStatusTopic(ctx: BenchContext, kafka: Kafka, topic: string, log: string) {
  await runSampled(
    ['status', 'init', '--topic', topic, '--partitions', String(PARTITIONS), '--json'],
    boardingEnv({}),
    log,
  );
  return ctx.cleanup(`topic ${topic}`, async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.deleteTopics({ topics: [topic] });
    } finally {
      await admin.disconnect();
    }
  });
}

/** The highest reading per pid: a backend that exits during the measure keeps its last sample. */
function mergeMax(into: Map<number, number>, sample: Map<number, number>) {
  for (const [pid, cpu] of sample) into.set(pid, Math.max(cpu, into.get(pid) ?? 0));
}

/**
 * Where the CPU went while `measure` ran: PostgreSQL and the Kafka broker (all their processes:
 * the stack is shared), this process, the whole machine. PostgreSQL is sampled while it runs: the
 * backends of a child's pool exit with it, and read only at the end they would not count. The
 * machine is shared too: what nobody here used went to other work.
 */
async function withCpu<T>(measure: () => Promise<T>) {
  const take = () => ({ kafka: commandCpuSeconds('java'), machine: machineCpuSeconds() });
  const pgBefore = commandCpuSeconds('postgres');
  const pgSeen = new Map(pgBefore);
  const sampler = setInterval(() => mergeMax(pgSeen, commandCpuSeconds('postgres')), 250);
  const before = take();
  const selfBefore = process.cpuUsage();
  const result = await measure().finally(() => clearInterval(sampler));
  const self = process.cpuUsage(selfBefore);
  const after = take();
  mergeMax(pgSeen, commandCpuSeconds('postgres'));
  return {
    result,
    postgres: cpuSecondsBetween(pgBefore, pgSeen),
    kafka: cpuSecondsBetween(before.kafka, after.kafka),
    self: (self.user + self.system) / 1e6,
    busy: after.machine.busy - before.machine.busy,
    idle: after.machine.idle - before.machine.idle,
  };
}

/**
 * Seconds the bench database's backends spent executing statements so far (pg_stat_database's
 * active_time, PostgreSQL 14+): during the snapshot only its process uses that database, so the
 * difference is the time the snapshot waited on its queries, a descheduled backend included.
 */
async function statementSeconds(database: TestDatabase): Promise<number> {
  // Backends report their counters at most once a second, and at exit: let the last ones land.
  await sleep(1500);
  await database.pool.query('select pg_stat_clear_snapshot()');
  const { rows } = await database.pool.query<{ ms: number }>(
    'select active_time as ms from pg_stat_database where datname = current_database()',
  );
  return (rows[0]?.ms ?? 0) / 1000;
}

type CpuReading = { postgres: number; kafka: number; self: number; busy: number; idle: number };

const describeCpu = (c: CpuReading) =>
  `postgres ${c.postgres.toFixed(1)} s, kafka broker ${c.kafka.toFixed(1)} s, this process ${c.self.toFixed(1)} s, ` +
  `machine busy ${c.busy.toFixed(1)} s, idle ${c.idle.toFixed(1)} s`;

/** Every card's current status in card id order, as the snapshot reads them. */
async function readStatuses(database: TestDatabase): Promise<StatusRow[]> {
  const { rows } = await database.pool.query<{
    card_no: string;
    status: string;
    since: Date;
    version: number;
  }>(
    `select c.card_no, s.status, s.since, s.version
     from card_status s join cards c on c.id = s.card_id order by s.card_id`,
  );
  return rows.map((r) => ({ cardNo: r.card_no, status: r.status, since: r.since, version: r.version }));
}

/**
 * The bound: kafkajs producing the snapshot's messages (same keys, same value bytes) to another
 * private topic made the same way, with the feed's producer settings (idempotent, one request in
 * flight, acks all, uncompressed) and its requests (pages of 5,000, one at a time). What is left
 * out is exactly what the snapshot adds: reading the pages from PostgreSQL, checking them again,
 * and building the messages. A warm-up of 10,000 messages first, as the limits bench does.
 */
async function rawProduce(kafka: Kafka, topic: string, messages: readonly Message[]) {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const sendAll = async (pages: Message[][]) => {
      for (const page of pages) await producer.send({ topic, acks: -1, messages: page });
    };
    const pages = chunk(messages, PAGE_SIZE);
    await sendAll(chunk(messages.slice(0, WARMUP_MESSAGES), PAGE_SIZE));
    const t0 = performance.now();
    await sendAll(pages);
    const seconds = since(t0);
    return { seconds, rate: messages.length / seconds };
  } finally {
    await producer.disconnect();
  }
}

/** A consumer of the status topic from its end, noting each message's card and version. */
async function watchTopic(
  ctx: BenchContext,
  kafka: Kafka,
  topic: string,
  onSeen: (cardNo: string, version: number, at: number) => void,
) {
  const groupId = `boarding-bench-status-${randomBytes(4).toString('hex')}`;
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 100 });
  await consumer.connect();
  const stop = ctx.cleanup(`consumer group ${groupId}`, async () => {
    await consumer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.deleteGroups([groupId]);
    } finally {
      await admin.disconnect();
    }
  });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.subscribe({ topic, fromBeginning: false });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const at = performance.now();
      for (const m of batch.messages) {
        if (m.value === null) continue;
        const value = JSON.parse(m.value.toString()) as { cardNo: string; version: number };
        onSeen(value.cardNo, value.version, at);
      }
    },
  });
  await joined;
  return stop;
}

/** Distinct matched cards to unmatch, with the version each will publish. */
async function cardsToChange(database: TestDatabase, n: number) {
  const { rows } = await database.pool.query<{ card_no: string; version: number }>(
    `select c.card_no, s.version from card_status s join cards c on c.id = s.card_id
     where s.status = 'ALLOWED' order by random() limit $1`,
    [n],
  );
  if (rows.length < n) throw new Error(`only ${rows.length} matched cards to change, ${n} needed`);
  return rows.map((r) => ({ cardNo: r.card_no, version: r.version + 1 }));
}

/**
 * Makes the changes on `schedule` (ms from now) with the `unmatchCard` verb, each noted in the
 * ledger when its verb returned (committed); returns how late the starts ran behind the schedule.
 */
async function makeChanges(
  database: TestDatabase,
  ledger: ChangeLedger,
  cards: readonly { cardNo: string; version: number }[],
  schedule: readonly number[],
) {
  const ctx = {
    db: database.db,
    keyring: loadKeyring(),
    actor: { id: 'boarding-bench', channel: 'STAFF' as const },
  };
  const inFlight: Promise<void>[] = [];
  let maxLateMs = 0;
  const t0 = performance.now();
  for (let next = 0; next < schedule.length; ) {
    const elapsed = performance.now() - t0;
    const due = dueCount(schedule, elapsed);
    for (; next < due; next++) {
      const card = cards[next];
      if (card === undefined) throw new Error(`no card for change ${next}`);
      maxLateMs = Math.max(maxLateMs, elapsed - (schedule[next] ?? elapsed));
      ledger.expect(card.cardNo, card.version, performance.now());
      inFlight.push(
        unmatchCard({ ctx, input: { cardNo: card.cardNo } }).then(() =>
          ledger.committed(card.cardNo, performance.now()),
        ),
      );
    }
    const wait = (schedule[next] ?? elapsed) - (performance.now() - t0);
    if (wait > 0) await sleep(wait);
  }
  await Promise.all(inFlight);
  return { seconds: since(t0), maxLateMs };
}

/** Until every committed change is seen, or the deadline: then fail loudly with what is missing. */
async function awaitSeen(ledger: ChangeLedger, what: string) {
  const deadline = performance.now() + SEEN_DEADLINE_MS;
  while (ledger.unseen().length > 0) {
    if (performance.now() > deadline) {
      const unseen = ledger.unseen();
      throw new Error(
        `${what}: ${unseen.length} of ${ledger.made} changes never reached the topic within ${SEEN_DEADLINE_MS / 1000} s (first: ${unseen.slice(0, 3).join(', ')})`,
      );
    }
    await sleep(20);
  }
}

/** The registry API child runs the relay (createStatusPublisher); ready once its relay is active. */
async function relayActive(relay: ServedChild) {
  const deadline = performance.now() + 60_000;
  while (!logTail(relay.log, 400).some((line) => line.includes('"status relay active"'))) {
    if (performance.now() > deadline) {
      throw new Error(`the status relay did not become active within 60 s; ${relay.log}`);
    }
    await sleep(100);
  }
}

/**
 * The card status feed (SPEC §10, issue 14) over ~1.2 M cards: the full snapshot (`boarding
 * status publish --full`) against raw kafkajs producing the same messages, then the relay's
 * change-to-publish latency at 100 registry changes per second. Private topics only.
 */
export const statusFeedBench: Bench = {
  name: 'status-feed',
  description: 'full status snapshot of ~1.2 M cards vs raw kafkajs produce; relay latency at 100 changes/s',
  async run(ctx) {
    ctx.progress(`cpu ${Math.round((await sampleIdle()) * 100)} % idle at the start of the bench`);
    const cards = ctx.options.taps ?? DEFAULT_CARDS;
    const { KAFKA_BROKERS } = loadEnv(KafkaEnv.pick({ KAFKA_BROKERS: true }));
    const kafka = createKafka({ brokers: KAFKA_BROKERS, clientId: 'boarding-bench' });
    const undo: (() => Promise<void>)[] = [];
    try {
      const dir = await mkdtemp(join(tmpdir(), 'bench-status-feed-'));
      undo.push(ctx.cleanup(`temp dir ${dir}`, () => rm(dir, { recursive: true, force: true })));
      const database = await createTestDatabase('bench_status_feed');
      undo.push(ctx.cleanup(`database ${database.name}`, () => database.drop()));
      await seedRegistry(ctx, database, dir, cards);

      const suffix = randomBytes(4).toString('hex');
      const topic = `boarding-bench.card-status.${suffix}`;
      const boundTopic = `boarding-bench.card-status-bound.${suffix}`;
      const log = join(dir, 'boarding.log');
      undo.push(await privateStatusTopic(ctx, kafka, topic, log));
      undo.push(await privateStatusTopic(ctx, kafka, boundTopic, log));
      ctx.progress(`private compacted topics ${topic} and ${boundTopic}, ${PARTITIONS} partitions each`);

      // The snapshot: the real command in its own process (publishFullStatus, pages of 5,000).
      const statementsBefore = await statementSeconds(database);
      const snapshot = await withCpu(() =>
        runSampled(
          ['status', 'publish', '--full', '--topic', topic, '--json'],
          boardingEnv({ DATABASE_URL: database.url }),
          log,
        ),
      );
      const report = lastJson<{
        cards: number;
        republished: number;
        seconds: number;
        messagesPerSecond: number;
      }>(snapshot.result.stdout, 'boarding status publish --full');
      const statements = (await statementSeconds(database)) - statementsBefore;
      ctx.progress(
        `snapshot: ${count(report.cards)} cards in ${report.seconds.toFixed(2)} s = ${count(Math.round(report.messagesPerSecond))} msgs/s (${report.republished} sent again); ` +
          `its queries ran ${statements.toFixed(1)} s in PostgreSQL (pg_stat_database active_time); ` +
          `cpu: publish process ${snapshot.result.cpu.toFixed(1)} s (start-up included), ${describeCpu(snapshot)}`,
      );

      const rows = await readStatuses(database);
      if (rows.length !== report.cards) {
        throw new Error(`the snapshot published ${report.cards} cards, the registry has ${rows.length}`);
      }
      const messages = rows.map(boundMessage);
      const bytes = messages.reduce((n, m) => n + m.key.length + m.value.length, 0);
      const bound = await withCpu(() => rawProduce(kafka, boundTopic, messages));
      ctx.progress(
        `bound: raw kafkajs ${count(messages.length)} msgs (${(bytes / messages.length).toFixed(1)} B key+value each) in ${bound.result.seconds.toFixed(2)} s = ${count(Math.round(bound.result.rate))} msgs/s; ` +
          `cpu: ${describeCpu(bound)}`,
      );
      const snapshotFigure = ctx.record({
        figure: 'snapshot',
        value: report.messagesPerSecond,
        unit: 'msgs/s',
        bound: bound.result.rate,
      });

      // Latency: the relay in a process of its own (the registry API runs it when Kafka is set; it
      // is never asked for anything else here), the changes made by the verb in this process.
      const relay = await serveChild(
        ctx,
        'registry-api',
        boardingEnv({
          DATABASE_URL: database.url,
          STATUS_TOPIC: topic,
          // Never called: no request reaches the API, only its relay works.
          HES_SERVICE_URL: 'http://127.0.0.1:9',
        }),
        join(dir, 'relay.log'),
        'address',
      );
      undo.push(relay.stop);
      await relayActive(relay);
      const warm = new ChangeLedger();
      const measured = new ChangeLedger();
      undo.push(
        await watchTopic(ctx, kafka, topic, (cardNo, version, at) => {
          warm.seen(cardNo, version, at);
          measured.seen(cardNo, version, at);
        }),
      );
      const schedule = changeSchedule(CHANGES.rate, CHANGES.seconds);
      const changed = await cardsToChange(database, CHANGES.warmUp + schedule.length);
      // The warm-up also proves the consumer is placed at the topic's end before the clock starts.
      ctx.progress(
        `relay pid ${relay.pid} active on ${topic}; warm-up: ${CHANGES.warmUp} changes (not measured)`,
      );
      await makeChanges(database, warm, changed.slice(0, CHANGES.warmUp), changeSchedule(CHANGES.warmUp, 1));
      await awaitSeen(warm, 'warm-up');

      ctx.progress(
        `changes: unmatchCard of ${count(schedule.length)} distinct seeded cards at ${CHANGES.rate}/s (open schedule)`,
      );
      const relayCpu = processCpuSeconds(relay.pid);
      const run = await withCpu(async () => {
        const made = await makeChanges(database, measured, changed.slice(CHANGES.warmUp), schedule);
        await awaitSeen(measured, 'changes');
        return made;
      });
      const latency = summariseLatencies(measured.latencies());
      const fromCall = summariseLatencies(measured.latencies('call'));
      const ms = (n: number) => `${n.toFixed(1)} ms`;
      ctx.progress(
        `changes: ${count(measured.expected)} made in ${run.result.seconds.toFixed(1)} s (starts at most ${ms(run.result.maxLateMs)} behind the schedule), ` +
          `${count(measured.expected - measured.unseen().length)} seen on the topic; commit (verb returned) to seen: ` +
          `min ${ms(Math.min(...measured.latencies()))} p50 ${ms(latency.p50)} p99 ${ms(latency.p99)} max ${ms(latency.max)}; ` +
          `verb called to seen: p50 ${ms(fromCall.p50)} p99 ${ms(fromCall.p99)} max ${ms(fromCall.max)}`,
      );
      ctx.progress(
        `cpu during the changes: relay process ${(processCpuSeconds(relay.pid) - relayCpu).toFixed(1)} s, ${describeCpu(run)}`,
      );
      if (latency.count !== measured.expected) {
        throw new Error(`${latency.count} latencies for ${measured.expected} changes`);
      }
      ctx.record({ figure: 'publish-latency-p99', value: latency.p99, unit: 'ms' });
      const ratio = snapshotFigure.ratio ?? 0;
      ctx.progress(
        `goal snapshot ≥ ${GOAL.ratio} of the bound: ${ratio >= GOAL.ratio ? 'met' : 'MISSED'} (${ratio.toFixed(3)}); ` +
          `goal change-to-publish p99 < ${GOAL.p99} ms at ${CHANGES.rate} changes/s: ${latency.p99 < GOAL.p99 ? 'met' : 'MISSED'}`,
      );
    } finally {
      await runUndos(undo, ctx.progress);
    }
  },
};
