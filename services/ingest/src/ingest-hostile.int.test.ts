import { randomUUID } from 'node:crypto';
import { environmentWith } from '@boarding/config/env';
import { dayStatsBeforeRows } from '@boarding/export/manifest';
import { spawnBoarding } from '@boarding/testing/cli-process';
import { createTestDatabase, type TestDatabase } from '@boarding/testing/database';
import {
  type HostileCase,
  type HostileExpectation,
  hostileMessages,
} from '@boarding/testing/hostile-messages';
import { createTestTopic, type TestTopic } from '@boarding/testing/kafka';
import { tapJson } from '@boarding/testing/taps';

const DAY = '2020-11-20';
const T0 = Date.parse('2020-11-20T08:00:00.000+03:00');
const VALIDATORS = ['BUS-30412-1', 'METRO-HLK-07', 'FERRY-KSK-2'];
const VALID_PER_VALIDATOR = 19;
// The database refuses this card through a constraint the test adds: a value the contract
// accepts but the store cannot keep, as a real schema change or a corrupt value would.
const REFUSED_CARD = 'DEADBEEFDEAD0001';

type Message = {
  key: string | Buffer | null;
  value: string | Buffer | null;
  timestamp: number;
  expect: HostileExpectation;
  name: string;
};

const validTap = (
  validatorId: string,
  seq: number,
  at: number,
  cardNo = `04${String(seq).padStart(14, '0')}`,
) => tapJson({ validatorId, seq, cardNo, tappedAt: at });

/**
 * Valid taps of three validators, interleaved on the same keys with every hostile case of the
 * catalogue, plus one tap the database refuses, placed in the very first chunk (so the day's
 * partition is first created in a transaction that rolls back).
 */
function interleaved(): Message[] {
  const out: Message[] = [];
  const refused: Message = {
    name: 'tap-the-database-refuses',
    key: VALIDATORS[0] ?? null,
    value: validTap(VALIDATORS[0] ?? '', 5000, T0 - 1000, REFUSED_CARD),
    timestamp: T0 + 60_000,
    expect: { kind: 'dead-letter', reason: 'STORE_REJECTED' },
  };
  const perValidator = VALIDATORS.map((validatorId, v) => {
    const hostile = hostileMessages({
      validatorId,
      firstSeq: 1000,
      timestamp: T0 + 3_600_000 + v * 1000,
      cardNo: '0412345678901234',
    }).cases;
    const valid: Message[] = Array.from({ length: VALID_PER_VALIDATOR }, (_, i) => ({
      name: `valid-${validatorId}-${i + 1}`,
      key: validatorId,
      value: validTap(validatorId, i + 1, T0 + i * 60_000 + v),
      timestamp: T0 + i * 60_000 + v + 30_000,
      expect: { kind: 'tap', seq: i + 1 },
    }));
    return { hostile, valid };
  });
  out.push(perValidator[0]?.valid[0] as Message, refused);
  const longest = Math.max(...perValidator.map((p) => p.hostile.length));
  for (let i = 0; i < longest; i++) {
    for (const p of perValidator) {
      const h: HostileCase | undefined = p.hostile[i];
      if (h) out.push(h);
      const valid = p.valid[Math.floor((i * VALID_PER_VALIDATOR) / longest)];
      if (valid && !out.includes(valid)) out.push(valid);
    }
  }
  for (const p of perValidator) for (const v of p.valid) if (!out.includes(v)) out.push(v);
  return out;
}

const boarding = (args: string[], env: NodeJS.ProcessEnv) => spawnBoarding(args, env).done;

describe('hostile messages interleaved with valid taps on the same keys', () => {
  let db: TestDatabase;
  let topic: TestTopic;
  const messages = interleaved();

  beforeAll(async () => {
    db = await createTestDatabase('ingest_hostile');
    await db.pool.query(
      `alter table boardings add constraint refuse_test_card check (card_no <> '${REFUSED_CARD}')`,
    );
    // One partition: offsets follow the order above, so each offset's expected record is known.
    topic = await createTestTopic(1);
    const producer = topic.kafka.producer();
    await producer.connect();
    try {
      await producer.send({
        topic: topic.topic,
        acks: -1,
        messages: messages.map((m) => ({ key: m.key, value: m.value, timestamp: String(m.timestamp) })),
      });
    } finally {
      await producer.disconnect();
    }
  });

  afterAll(async () => {
    await topic.drop();
    await db.drop();
  });

  it('stores every valid tap, records every message exactly once, and drains the lag', async () => {
    expect(messages.length).toBeGreaterThanOrEqual(57 + 30);
    const env = environmentWith({
      DATABASE_URL: db.url,
      KAFKA_TAPS_TOPIC: topic.topic,
      INGEST_GROUP_ID: `hostile-${randomUUID()}`,
      INGEST_CHUNK_SIZE: '50',
      LOG_LEVEL: 'error',
    });
    const run = await boarding(['ingest', '--until-caught-up', '--timeout', '120', '--json'], env);
    expect(run.stderr).not.toContain('boarding:');
    expect(run.code).toBe(0);

    // What each offset must hold, in produce order.
    const expected = messages.map((m, offset) => {
      const e = m.expect;
      const what =
        e.kind === 'dead-letter'
          ? `dead-letter ${e.reason}`
          : e.kind === 'tap'
            ? `tap ${e.seq}`
            : 'heartbeat';
      return `${offset} ${what} (${m.name})`;
    });
    const { rows } = await db.pool.query<{ off: string; what: string }>(
      `select kafka_offset as off, 'tap ' || seq as what from tap_keys
       union all select kafka_offset, 'duplicate ' || seq from duplicate_taps
       union all select kafka_offset, 'dead-letter ' || reason from dead_letters
       union all select kafka_offset, 'heartbeat' from heartbeat_log
       order by 1`,
    );
    const got = rows.map((r) => `${r.off} ${r.what} (${messages[Number(r.off)]?.name ?? '?'})`);
    expect(got).toEqual(expected);

    // Every valid tap of the three validators is in the store.
    const stored = await db.pool.query<{ n: number }>(
      `select count(*)::int as n from boardings where seq <= $1 and validator_id = any($2::text[])`,
      [VALID_PER_VALIDATOR, VALIDATORS],
    );
    expect(stored.rows[0]?.n).toBe(VALID_PER_VALIDATOR * VALIDATORS.length);

    // The refused tap: its raw bytes kept, the database's words in the detail.
    const letter = await db.pool.query<{ detail: string; raw: Buffer }>(
      `select detail, raw_value as raw from dead_letters where reason = 'STORE_REJECTED'`,
    );
    expect(letter.rows).toHaveLength(1);
    expect(letter.rows[0]?.detail).toMatch(/^23514 .*refuse_test_card/);
    expect(letter.rows[0]?.raw.toString()).toContain(REFUSED_CARD);

    // The run's summary says the same, from the records.
    const summary = JSON.parse(run.stdout) as Record<string, unknown>;
    const count = (kind: string) => messages.filter((m) => m.expect.kind === kind).length;
    const reasons: Record<string, number> = {};
    for (const m of messages) {
      if (m.expect.kind === 'dead-letter') reasons[m.expect.reason] = (reasons[m.expect.reason] ?? 0) + 1;
    }
    expect(summary).toMatchObject({
      messages: messages.length,
      taps: count('tap'),
      heartbeats: count('heartbeat'),
      duplicates: 0,
      deadLettered: reasons,
      unaccounted: 0,
      doubled: 0,
      lag: 0,
    });

    // A user can check it: every committed offset accounted for, whole topic and one range.
    const all = await boarding(['ingest', 'reconcile', '--json'], env);
    expect(all.code).toBe(0);
    expect(JSON.parse(all.stdout)).toMatchObject({
      totals: { messages: messages.length, unaccounted: 0, doubled: 0 },
      uncommitted: 0,
    });
    const range = await boarding(
      ['ingest', 'reconcile', '--partition', '0', '--from', '0', '--to', '9'],
      env,
    );
    expect(range.code).toBe(0);
    expect(range.stdout).toContain('every offset is accounted for');

    // And the day's manifest states it.
    const client = await db.pool.connect();
    try {
      expect((await dayStatsBeforeRows(client, DAY, topic.topic)).offsetsUnaccounted).toBe(0);
    } finally {
      client.release();
    }
  });

  it('reconcile names the offsets that have no record', async () => {
    const env = environmentWith({
      DATABASE_URL: db.url,
      KAFKA_TAPS_TOPIC: topic.topic,
      INGEST_GROUP_ID: `hostile-${randomUUID()}`,
      LOG_LEVEL: 'error',
    });
    const caught = await boarding(['ingest', '--until-caught-up'], env);
    expect(caught.code).toBe(0);
    // Lose the records of two offsets, as a restore from an older backup would.
    await db.pool.query(
      'delete from dead_letters where kafka_offset in (select kafka_offset from dead_letters order by 1 limit 2)',
    );
    const lost = await db.pool.query<{ off: string }>(
      `select g as off from generate_series(0, $1::int - 1) g
       where not exists (select 1 from tap_keys where kafka_offset = g) and not exists (select 1 from dead_letters where kafka_offset = g)
         and not exists (select 1 from duplicate_taps where kafka_offset = g) and not exists (select 1 from heartbeat_log where kafka_offset = g)`,
      [messages.length],
    );
    expect(lost.rows).toHaveLength(2);
    const report = await boarding(['ingest', 'reconcile'], env);
    expect(report.code).toBe(1);
    for (const { off } of lost.rows) expect(report.stdout).toContain(`NO RECORD: partition 0 offset ${off}`);
    expect(report.stdout).toContain('2 offsets with no record');
  });
});
