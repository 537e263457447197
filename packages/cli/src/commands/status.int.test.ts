import { randomUUID } from 'node:crypto';
import { createKafka } from '@boarding/kafka/client';
import type { RegistryContext } from '@boarding/registry/context';
import { matchCard } from '@boarding/registry/verbs/match-card';
import { unmatchCard } from '@boarding/registry/verbs/unmatch-card';
import { syntheticCardNo, syntheticHes, syntheticTc } from '@boarding/simulator/identities';
import { Random } from '@boarding/simulator/random';
import { explainCardStatus, markSent, readUnsent } from '@boarding/status-feed/outbox';
import { createTestDatabase, type TestDatabase } from '@boarding/testing/database';
import { testEnv } from '@boarding/testing/env';
import { createKeyringForTests } from '@boarding/testing/keyring';
import { UsageError } from '../arguments';
import { runCommand } from './run-command.test-helpers';
import { registerStatus } from './status';

type Kafka = ReturnType<typeof createKafka>;
// kafkajs's ConfigResourceTypes.TOPIC (the CLI does not depend on kafkajs itself).
const TOPIC_RESOURCE = 2;

/** Every message on the topic as [key, value], read from the start until `expected` arrived. */
async function readTopic(kafka: Kafka, topic: string, expected: number): Promise<[string, string][]> {
  const consumer = kafka.consumer({ groupId: `test-${randomUUID()}` });
  const seen: [string, string][] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        seen.push([message.key?.toString() ?? '', message.value?.toString() ?? '']);
        if (seen.length >= expected) resolve();
      },
    });
  });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([done, new Promise((r) => (timer = setTimeout(r, 15_000)))]);
  clearTimeout(timer);
  // A moment more, so a message beyond the expected ones would show.
  await new Promise((r) => setTimeout(r, 500));
  await consumer.disconnect();
  return seen;
}

describe('boarding status', () => {
  let database: TestDatabase;
  let kafka: Kafka;
  const topic = `test.card.status.${randomUUID()}`;
  const deleting = `test.card.status.delete.${randomUUID()}`;
  const random = new Random(14);
  // Three cards: matched then unmatched (NOT_MATCHED, v2), matched with a risky HES code
  // (HES_RISKY, v1), matched with a riskless one (ALLOWED, v1).
  const person = (n: number) => ({
    cardNo: syntheticCardNo(n),
    tc: syntheticTc(n),
    hes: syntheticHes(random),
  });
  const a = person(1);
  const b = person(2);
  const c = person(3);
  const people = [a, b, c];

  /** `boarding status …` in-process, pointed at this test's database and topic. */
  const boarding = (args: string[]) =>
    runCommand(registerStatus, ['status', ...args], {
      DATABASE_URL: database.url,
      STATUS_TOPIC: topic,
      LOG_LEVEL: 'error',
    });
  const json = async <T>(args: string[]) => JSON.parse((await boarding([...args, '--json'])).stdout) as T;

  beforeAll(async () => {
    database = await createTestDatabase('cli_status');
    kafka = createKafka({ brokers: testEnv().KAFKA_BROKERS, clientId: 'test' });
    const ctx: RegistryContext = {
      db: database.db,
      keyring: createKeyringForTests(),
      actor: { id: 'test', channel: 'WEB' },
    };
    await matchCard({
      ctx,
      input: { cardNo: a.cardNo, cardKind: 'PERSONAL', tcKimlikNo: a.tc, hesCode: a.hes },
    });
    await unmatchCard({ ctx, input: { cardNo: a.cardNo } });
    await matchCard({
      ctx,
      input: { cardNo: b.cardNo, cardKind: 'PERSONAL', tcKimlikNo: b.tc, hesCode: b.hes, hesStatus: 'RISKY' },
    });
    await matchCard({
      ctx,
      input: {
        cardNo: c.cardNo,
        cardKind: 'ANONYMOUS',
        tcKimlikNo: c.tc,
        hesCode: c.hes,
        hesStatus: 'RISKLESS',
      },
    });
  });
  afterAll(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic, deleting] }).catch(() => undefined);
    await admin.disconnect();
    await database.drop();
  });

  it('init creates the topic compacted; a second init says it is already there', async () => {
    expect(await json(['init', '--partitions', '2'])).toEqual({ topic, created: true });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: TOPIC_RESOURCE, name: topic, configNames: ['cleanup.policy'] }],
      });
      expect(resources[0]?.configEntries[0]?.configValue).toBe('compact');
      const [meta] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
      expect(meta?.partitions).toHaveLength(2);
    } finally {
      await admin.disconnect();
    }
    const again = await boarding(['init']);
    expect(again.stdout).toBe(`topic ${topic}: already there, compacted: nothing to do\n`);
  });

  it('init refuses a topic that exists without compaction (a failed run, not a usage error)', async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: deleting, numPartitions: 1 }] });
    await admin.disconnect();
    const run = boarding(['init', '--topic', deleting]);
    await expect(run).rejects.toThrow(
      `topic ${deleting} exists with cleanup.policy=delete; it must be compact`,
    );
    await expect(run).rejects.not.toBeInstanceOf(UsageError);
  });

  it('publish without --full is a usage error that says what --full does', async () => {
    const run = boarding(['publish']);
    await expect(run).rejects.toBeInstanceOf(UsageError);
    await expect(run).rejects.toThrow(/needs --full.*snapshot.*outbox relay/);
  });

  it('publish --full refuses a topic that does not exist', async () => {
    await expect(
      boarding(['publish', '--full', '--topic', `test.card.status.missing.${randomUUID()}`]),
    ).rejects.toMatchObject({ code: 'STATUS_TOPIC_MISSING' });
  });

  it("publish --full puts exactly every card's current status on the topic, as SPEC §10 writes it", async () => {
    const now = new Date();
    const sinceOf = async (cardNo: string) =>
      (await explainCardStatus(database.db, cardNo, now))?.since.toISOString() ?? 'missing';
    const expected: [string, string][] = [
      [
        a.cardNo,
        `{"schema":"card-status.v1","cardNo":"${a.cardNo}","status":"NOT_MATCHED","since":"${await sinceOf(a.cardNo)}","version":2}`,
      ],
      [
        b.cardNo,
        `{"schema":"card-status.v1","cardNo":"${b.cardNo}","status":"HES_RISKY","since":"${await sinceOf(b.cardNo)}","version":1}`,
      ],
      [
        c.cardNo,
        `{"schema":"card-status.v1","cardNo":"${c.cardNo}","status":"ALLOWED","since":"${await sinceOf(c.cardNo)}","version":1}`,
      ],
    ];
    const { stdout, stderr } = await boarding(['publish', '--full', '--json']);
    const summary = JSON.parse(stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({ topic, cards: 3, republished: 0 });
    expect(summary.seconds).toEqual(expect.any(Number));
    expect(summary.messagesPerSecond).toEqual(expect.any(Number));
    // The progress bar is on stderr, so stdout is the JSON alone.
    expect(stderr).toContain('status publish');

    const seen = await readTopic(kafka, topic, expected.length);
    expect(seen.sort()).toEqual(expected.sort());

    const human = await boarding(['publish', '--full']);
    expect(human.stdout).toMatch(
      new RegExp(
        `^published the current status of 3 cards to ${topic.replaceAll('.', '\\.')} in \\d+\\.\\ds \\(\\d+ msg/s\\)\\n$`,
      ),
    );
  });

  it('show: status, since, version, published or not, and why; never the TC or HES code', async () => {
    // Typed as a person might: lower case, spaces around; normalised as other commands do.
    const shownB = await boarding(['show', ` ${b.cardNo.toLowerCase()} `]);
    expect(shownB.stdout).toMatch(
      new RegExp(
        `^card ${b.cardNo}: HES_RISKY since \\S+Z \\(version 1, not yet published: the outbox relay has not sent it \\(see boarding status lag\\)\\)\\n  why: live match \\d+ since \\S+Z, HES status RISKY\\n$`,
      ),
    );
    const shownA = await boarding(['show', a.cardNo]);
    expect(shownA.stdout).toMatch(
      /NOT_MATCHED since .* \(version 2, .*\n {2}why: its last match \d+ ended at \S+Z\n$/,
    );
    const shownC = await json<Record<string, unknown>>(['show', c.cardNo]);
    expect(shownC).toMatchObject({
      cardNo: c.cardNo,
      status: 'ALLOWED',
      version: 1,
      published: false,
      reason: { kind: 'LIVE_MATCH', hesStatus: 'RISKLESS' },
    });
    for (const out of [shownA.stdout, shownB.stdout, JSON.stringify(shownC)]) {
      for (const person of people) {
        expect(out).not.toContain(person.tc);
        expect(out).not.toContain(person.hes);
      }
    }
  });

  it('show: a card not in the registry fails with CARD_UNKNOWN; a malformed one is a usage error', async () => {
    await expect(boarding(['show', syntheticCardNo(99)])).rejects.toMatchObject({
      code: 'CARD_UNKNOWN',
      message: `card ${syntheticCardNo(99)} has no status: it is not in the registry (validators refuse it as not matched)`,
    });
    await expect(boarding(['show', 'not-a-card'])).rejects.toBeInstanceOf(UsageError);
  });

  it('lag: the outbox rows not yet published and the age of the oldest; 0 and null once sent', async () => {
    // a: v1 and v2, b: v1, c: v1 (no relay runs on this database; publish --full is no relay).
    const waiting = await json<{ unsent: number; oldestCreatedAt: string; oldestAgeSeconds: number }>([
      'lag',
    ]);
    expect(waiting.unsent).toBe(4);
    expect(Number.isNaN(Date.parse(waiting.oldestCreatedAt))).toBe(false);
    expect(waiting.oldestAgeSeconds).toBeGreaterThanOrEqual(0);
    expect((await boarding(['lag'])).stdout).toMatch(
      /^card status outbox: 4 status change\(s\) not yet published; the oldest written [\d.]+s ago \(\S+Z\)\n$/,
    );

    const rows = await readUnsent(database.db, 100);
    await markSent(
      database.db,
      rows.map((r) => r.id),
      new Date(),
    );
    expect(await json(['lag'])).toEqual({ unsent: 0, oldestCreatedAt: null, oldestAgeSeconds: null });
    expect((await boarding(['lag'])).stdout).toBe(
      'card status outbox: nothing waiting, every status change is published\n',
    );
    expect((await json<{ published: boolean }>(['show', b.cardNo])).published).toBe(true);
  });
});
