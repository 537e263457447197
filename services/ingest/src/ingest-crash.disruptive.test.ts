import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDay, type SimMessage } from '@boarding/simulator/day';
import { killServer, startServer } from '@boarding/stack/stack';
import {
  type BoardingExit,
  type BoardingRun,
  killRunningBoardings,
  spawnBoarding,
} from '@boarding/testing/cli-process';
import { createTestDatabase, type TestDatabase } from '@boarding/testing/database';
import { createTestTopic, produce, type TestTopic } from '@boarding/testing/kafka';
import { importSimulatedRegistry, ingestTestEnv } from './ingest.test-helpers';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The run's exit, or a rejection (after killing it) if it takes longer than `ms`. */
async function within(run: BoardingRun, ms: number): Promise<BoardingExit> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      run.child.kill('SIGKILL');
      reject(new Error(`boarding did not exit within ${ms / 1000} s`));
    }, ms);
  });
  try {
    return await Promise.race([run.done, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function storedTaps(db: TestDatabase): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>('select count(*)::int as n from boardings');
  return rows[0]?.n ?? 0;
}

const toTestMessages = (messages: SimMessage[]) =>
  messages.map((m) => ({ key: m.key, value: m.value, timestamp: Number(m.timestamp) }));

/** Small seeded PRNG (mulberry32): the kill points are random but the same on every run. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One line per row, in a fixed order, so two databases compare as two lists of strings. */
async function lines(db: TestDatabase, sql: string): Promise<string[]> {
  const { rows } = await db.pool.query<{ line: string }>(sql);
  return rows.map((r) => r.line);
}

/** What is in one list and not the other (first few of each), for a readable failure. */
function difference(a: string[], b: string[]) {
  const inB = new Set(b);
  const inA = new Set(a);
  return {
    onlyInUndisturbed: a.filter((l) => !inB.has(l)).slice(0, 10),
    onlyInKilled: b.filter((l) => !inA.has(l)).slice(0, 10),
  };
}

const STORED_SETS = {
  boardings: `select concat_ws('|', validator_id, seq, service_day, card_no, tapped_at, match_id is not null,
                                 kafka_partition, kafka_offset) as line
              from boardings order by validator_id, seq`,
  tapKeys: `select concat_ws('|', validator_id, seq, service_day, card_no, tapped_at, kafka_partition, kafka_offset) as line
            from tap_keys order by validator_id, seq`,
  duplicates: `select concat_ws('|', kafka_partition, kafka_offset, validator_id, seq) as line
               from duplicate_taps order by kafka_partition, kafka_offset`,
  deadLetters: `select concat_ws('|', kafka_partition, kafka_offset, reason) as line
                from dead_letters order by kafka_partition, kafka_offset`,
  heartbeats: `select concat_ws('|', kafka_partition, kafka_offset) as line
               from heartbeat_log order by kafka_partition, kafka_offset`,
  // Per-validator progress is a running sum: a tap counted twice after a kill would show here.
  validatorDays: `select concat_ws('|', validator_id, service_day, min_seq, max_seq, tap_count, last_tapped_at) as line
                  from validator_days order by validator_id, service_day`,
};

describe('ingest crashes: the broker or the ingest killed -9 mid-run', () => {
  let dir: string;
  const databases: TestDatabase[] = [];
  const topics: TestTopic[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ingest-crash-'));
  });

  afterAll(async () => {
    killRunningBoardings();
    try {
      // A test that failed between kill and start must not leave the broker down for the next file.
      await startServer('kafka');
      await Promise.all(topics.map((t) => t.drop()));
    } finally {
      await Promise.all(databases.map((d) => d.drop()));
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);

  it('the Kafka broker killed -9 and started again mid-run: exact data and an exact summary', async () => {
    const { messages, registryRows, truth } = generateDay({ day: '2020-11-20', taps: 60_000, seed: 17 });
    const db = await createTestDatabase('ingest_broker_kill');
    databases.push(db);
    const topic = await createTestTopic(6);
    topics.push(topic);
    await importSimulatedRegistry(db, dir, registryRows);
    await produce(topic.kafka, topic.topic, toTestMessages(messages));

    const run = spawnBoarding(
      ['ingest', '--until-caught-up', '--json'],
      ingestTestEnv(db, topic, `broker-kill-${randomUUID()}`),
    );
    // Kill the broker once some taps are stored but long before the last: mid-run, with
    // chunks in flight and offsets committed on some partitions only.
    let storedAtKill = 0;
    for (let i = 0; i < 1200 && !run.exited(); i++) {
      storedAtKill = await storedTaps(db);
      if (storedAtKill >= 6000) break;
      await sleep(100);
    }
    expect(run.exited()).toBe(false);
    expect(storedAtKill).toBeGreaterThan(0);
    expect(storedAtKill).toBeLessThan(truth.expected.stored / 2);
    try {
      const killed = await killServer('kafka');
      expect(killed.pid).not.toBeNull();
      await sleep(2000);
    } finally {
      await startServer('kafka');
    }
    const exit = await within(run, 600_000);
    expect({ code: exit.code, signal: exit.signal, stderr: exit.code === 0 ? '' : exit.stderr }).toEqual({
      code: 0,
      signal: null,
      stderr: '',
    });

    // The store is exactly the simulator's truth, as if nothing had happened.
    const { rows } = await db.pool.query<Record<string, number>>(
      `select (select count(*) from boardings)::int as stored,
              (select count(*) from boardings where match_id is not null)::int as matched,
              (select count(*) from duplicate_taps)::int as duplicates,
              (select count(*) from dead_letters)::int as dead_lettered,
              (select count(*) from heartbeat_log)::int as heartbeats,
              (select count(*) from (select validator_id, seq from boardings group by 1, 2 having count(*) > 1) d)::int as doubled`,
    );
    const byReason = await db.pool.query<{ reason: string; n: number }>(
      'select reason, count(*)::int as n from dead_letters group by reason',
    );
    const expectedLetters = Object.fromEntries(
      Object.entries(truth.expected.deadLettered).filter(([, n]) => n > 0),
    );
    expect(Object.fromEntries(byReason.rows.map((r) => [r.reason, r.n]))).toEqual(expectedLetters);
    expect(rows[0]).toEqual({
      stored: truth.expected.stored,
      matched: truth.expected.matched,
      duplicates: truth.expected.duplicates,
      dead_lettered: Object.values(truth.expected.deadLettered).reduce((a, b) => a + b, 0),
      heartbeats: truth.heartbeats,
      doubled: 0,
    });

    // The run's summary, read from the per-offset records, says the same: the restart neither
    // hid offsets from it nor counted any twice.
    const summary: unknown = JSON.parse(exit.stdout.trim().split('\n').at(-1) ?? 'null');
    expect(summary).toEqual({
      // One process into an empty store: every tap is new to it exactly once, even those whose
      // chunk was stored but not committed when the broker died and so was read again.
      newTaps: truth.expected.stored,
      seconds: expect.any(Number),
      messages: truth.messages,
      taps: truth.expected.stored,
      matched: truth.expected.matched,
      duplicates: truth.expected.duplicates,
      deadLettered: expectedLetters,
      heartbeats: truth.heartbeats,
      unaccounted: 0,
      doubled: 0,
      lag: 0,
    });
  }, 900_000);

  it("kill -9 of the ingest at 20 random points of a simulated 200 k-tap day: the stored set equals an undisturbed run's", async () => {
    const t0 = Date.now();
    const { messages, registryRows, truth } = generateDay({ day: '2020-11-20', taps: 200_000, seed: 23 });
    const [a, b] = await Promise.all([
      createTestDatabase('ingest_kill_undisturbed'),
      createTestDatabase('ingest_kill_killed'),
    ]);
    databases.push(a, b);
    const topic = await createTestTopic(12);
    topics.push(topic);
    await importSimulatedRegistry(a, dir, registryRows);
    await importSimulatedRegistry(b, dir, registryRows);
    await produce(topic.kafka, topic.topic, toTestMessages(messages));
    const tReady = Date.now();

    const envA = ingestTestEnv(a, topic, `undisturbed-${randomUUID()}`);
    const envB = ingestTestEnv(b, topic, `killed-${randomUUID()}`);

    const undisturbed = await within(spawnBoarding(['ingest', '--until-caught-up'], envA), 300_000);
    expect({ code: undisturbed.code, stderr: undisturbed.code === 0 ? '' : undisturbed.stderr }).toEqual({
      code: 0,
      stderr: '',
    });
    const tUndisturbed = Date.now();

    const random = mulberry32(20201120);
    // Where each kill landed: "+n" taps stored by that run, or "t=ms" after its start.
    const killedAt: string[] = [];
    let finishedByItself = false;
    for (let round = 0; round < 20; round++) {
      const before = await storedTaps(b);
      const started = Date.now();
      const run = spawnBoarding(['ingest', '--until-caught-up'], envB);
      // About one kill in six lands 1.5–6 s after the start, while the group waits out the last
      // killed member's session or hands out the partitions; the rest
      // once this run has stored a random number of new taps (so ~20 kills fit in one day
      // whatever the machine's speed), plus a random 0–300 ms so the kill falls anywhere in a
      // chunk's life: mid-transaction, between the database commit and the offset commit.
      const early = random() < 0.15;
      const growth = 500 + Math.floor(random() * 7000);
      const extraMs = random() * 300;
      const deadline = early ? started + 1500 + random() * 4500 : started + 120_000;
      let stored = before;
      while (!run.exited() && Date.now() < deadline && (early || stored < before + growth)) {
        await sleep(50);
        stored = await storedTaps(b);
      }
      if (!early) await sleep(extraMs);
      if (run.exited()) {
        // It caught up before this round's kill point: the rest of the day was already read.
        finishedByItself = true;
        const exit = await run.done;
        expect({ round, code: exit.code, stderr: exit.code === 0 ? '' : exit.stderr }).toEqual({
          round,
          code: 0,
          stderr: '',
        });
        break;
      }
      run.child.kill('SIGKILL');
      killedAt.push(early ? `t=${Date.now() - started}ms` : `+${stored - before}`);
      await run.done;
    }
    const kills = killedAt.length;
    process.stderr.write(
      `ingest-crash: ${kills} kills (${killedAt.join(' ')})${finishedByItself ? ', then the ingest finished by itself' : ''}\n`,
    );
    const tKilled = Date.now();
    expect(kills).toBeGreaterThanOrEqual(15);

    const final = await within(spawnBoarding(['ingest', '--until-caught-up'], envB), 300_000);
    expect({ code: final.code, stderr: final.code === 0 ? '' : final.stderr }).toEqual({
      code: 0,
      stderr: '',
    });
    const tFinal = Date.now();

    for (const [name, sql] of Object.entries(STORED_SETS)) {
      const [undisturbedLines, killedLines] = await Promise.all([lines(a, sql), lines(b, sql)]);
      expect({ name, count: killedLines.length }).toEqual({ name, count: undisturbedLines.length });
      expect({ name, ...difference(undisturbedLines, killedLines) }).toEqual({
        name,
        onlyInUndisturbed: [],
        onlyInKilled: [],
      });
    }
    // And the undisturbed run itself is the truth, so the comparison is not between two wrongs.
    expect((await lines(a, STORED_SETS.boardings)).length).toBe(truth.expected.stored);
    const doubled = await b.pool.query<{ n: number }>(
      'select count(*)::int as n from (select validator_id, seq from boardings group by 1, 2 having count(*) > 1) d',
    );
    expect(doubled.rows[0]?.n).toBe(0);

    const reconcile = await within(spawnBoarding(['ingest', 'reconcile', '--json'], envB), 120_000);
    expect({ code: reconcile.code, stderr: reconcile.code === 0 ? '' : reconcile.stderr }).toEqual({
      code: 0,
      stderr: '',
    });
    const report: unknown = JSON.parse(reconcile.stdout);
    expect(report).toEqual(
      expect.objectContaining({
        uncommitted: 0,
        totals: {
          messages: truth.messages,
          taps: truth.expected.stored,
          duplicates: truth.expected.duplicates,
          deadLettered: Object.fromEntries(
            Object.entries(truth.expected.deadLettered).filter(([, n]) => n > 0),
          ),
          heartbeats: truth.heartbeats,
          unaccounted: 0,
          doubled: 0,
        },
      }),
    );

    process.stderr.write(
      `ingest-crash: setup ${((tReady - t0) / 1000).toFixed(1)} s, undisturbed ${((tUndisturbed - tReady) / 1000).toFixed(1)} s, ` +
        `kill rounds ${((tKilled - tUndisturbed) / 1000).toFixed(1)} s, final run ${((tFinal - tKilled) / 1000).toFixed(1)} s\n`,
    );
  }, 900_000);
});
