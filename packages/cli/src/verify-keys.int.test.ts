import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killRunningBoardings, spawnBoarding } from '@boarding/testing/cli-process';
import { createTestDatabase, type TestDatabase } from '@boarding/testing/database';
import { createTestTopic, type TestTopic } from '@boarding/testing/kafka';
import { createTestSftpDir, type TestSftpDir } from '@boarding/testing/sftp';

// Synthetic identities (checksum-valid TCs of SPEC §3) and random keys: nothing real.
const PEOPLE = [
  { tc: '17291716060', hes: 'AB12CD34EF' },
  { tc: '10000000146', hes: 'ABCD1234X9' },
];
const HEADER = 'card_no,tc_kimlik_no,hes_code,card_kind,valid_from,valid_to';
const K1 = randomBytes(32);
const INDEX = randomBytes(32);

type KeyFileKeys = { k1: Buffer; index: Buffer };

describe('every command that loads the PII keys checks them against the database first', () => {
  let db: TestDatabase;
  let dir: string;
  let sftp: TestSftpDir;
  let topic: TestTopic;

  /** A key file as `boarding stack up` writes it, mode 0600. */
  async function keyFile(name: string, keys: KeyFileKeys): Promise<string> {
    const path = join(dir, `${name}.json`);
    const file = {
      version: 1,
      activeKeyId: 'k1',
      keys: { k1: keys.k1.toString('base64') },
      indexKey: keys.index.toString('base64'),
    };
    await writeFile(path, JSON.stringify(file), { mode: 0o600 });
    return path;
  }

  /** `boarding <args>` as its own process with this test's database and key file. */
  async function boarding(args: string[], keyFilePath: string, env: Record<string, string> = {}) {
    const base: NodeJS.ProcessEnv = { ...process.env };
    for (const name of ['PII_KEYS', 'PII_ACTIVE_KEY_ID', 'PII_INDEX_KEY']) delete base[name];
    return spawnBoarding(args, { ...base, DATABASE_URL: db.url, PII_KEY_FILE: keyFilePath, ...env }).done;
  }

  async function counts(): Promise<Record<string, number>> {
    const { rows } = await db.pool.query<Record<string, number>>(
      `select (select count(*)::int from persons) as persons, (select count(*)::int from cards) as cards,
              (select count(*)::int from matches) as matches, (select count(*)::int from import_runs) as import_runs,
              (select count(*)::int from key_checks) as key_checks`,
    );
    return rows[0] ?? {};
  }

  const csv = async (name: string, lines: string[]) => {
    const path = join(dir, name);
    await writeFile(path, `${[HEADER, ...lines].join('\n')}\n`);
    return path;
  };

  const leaksClearValue = (text: string) => PEOPLE.some((p) => text.includes(p.tc) || text.includes(p.hes));

  let right: string;
  let otherIndexKey: string;
  let otherBytesUnderK1: string;

  beforeAll(async () => {
    db = await createTestDatabase('cli_key_check');
    dir = await mkdtemp(join(tmpdir(), 'cli-key-check-'));
    sftp = await createTestSftpDir('cli-key-check');
    topic = await createTestTopic(1);
    right = await keyFile('right', { k1: K1, index: INDEX });
    otherIndexKey = await keyFile('other-index', { k1: K1, index: randomBytes(32) });
    otherBytesUnderK1 = await keyFile('other-k1', { k1: randomBytes(32), index: INDEX });
    // The registry as the right keys wrote it (first use records their checks).
    const first = await boarding(
      [
        'registry',
        'import',
        await csv('first.csv', [
          `0400000000000A01,${PEOPLE[0]?.tc},${PEOPLE[0]?.hes},PERSONAL,2020-11-01T00:00:00+03:00,`,
          `0400000000000A02,${PEOPLE[1]?.tc},${PEOPLE[1]?.hes},PERSONAL,2020-11-01T00:00:00+03:00,`,
        ]),
      ],
      right,
    );
    expect(first.code).toBe(0);
  });

  afterAll(async () => {
    killRunningBoardings();
    await topic.drop();
    await sftp.remove();
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('registry import: another index key is refused before any write, so no person is created twice', async () => {
    const before = await counts();
    expect(before).toEqual({ persons: 2, cards: 2, matches: 2, import_runs: 1, key_checks: 2 });
    // The same people with new cards: under a wrong index key their blind indexes differ, and the
    // import would have taken them for two new persons (each with one card) and stored them again.
    const newCards = await csv('new-cards.csv', [
      `0400000000000B01,${PEOPLE[0]?.tc},${PEOPLE[0]?.hes},PERSONAL,2020-11-10T00:00:00+03:00,`,
      `0400000000000B02,${PEOPLE[1]?.tc},${PEOPLE[1]?.hes},PERSONAL,2020-11-10T00:00:00+03:00,`,
    ]);
    const run = await boarding(['registry', 'import', newCards], otherIndexKey);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('[PII_INDEX_KEY_MISMATCH]');
    expect(run.stderr).toContain('check PII_KEY_FILE / PII_INDEX_KEY');
    expect(leaksClearValue(run.stdout + run.stderr)).toBe(false);
    expect(await counts()).toEqual(before);

    // With the right keys the same two persons get their new cards (the old matches ended).
    const replaced = await csv('replaced.csv', [
      `0400000000000A01,${PEOPLE[0]?.tc},${PEOPLE[0]?.hes},PERSONAL,2020-11-01T00:00:00+03:00,2020-11-10T00:00:00+03:00`,
      `0400000000000B01,${PEOPLE[0]?.tc},${PEOPLE[0]?.hes},PERSONAL,2020-11-10T00:00:00+03:00,`,
      `0400000000000A02,${PEOPLE[1]?.tc},${PEOPLE[1]?.hes},PERSONAL,2020-11-01T00:00:00+03:00,2020-11-10T00:00:00+03:00`,
      `0400000000000B02,${PEOPLE[1]?.tc},${PEOPLE[1]?.hes},PERSONAL,2020-11-10T00:00:00+03:00,`,
    ]);
    const ok = await boarding(['registry', 'import', replaced], right);
    expect(ok.code).toBe(0);
    expect(await counts()).toEqual({ persons: 2, cards: 4, matches: 4, import_runs: 2, key_checks: 2 });
  });

  it('export run: other bytes under the same kid are refused naming the kid, before a file is built', async () => {
    const out = join(dir, 'exports');
    const run = await boarding(
      ['export', 'run', '--day', '2020-11-20', '--no-deliver', '--out', out],
      otherBytesUnderK1,
    );
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('[PII_DATA_KEY_MISMATCH]');
    expect(run.stderr).toContain('data key k1 ');
    expect(run.stderr).toContain('check PII_KEY_FILE / PII_KEYS');
    expect(await readdir(out).catch(() => [])).toEqual([]);
  });

  it('replay: a wrong key is refused before the topic is read or anything stored', async () => {
    const before = await counts();
    const run = await boarding(['replay', '--day', '2020-11-20'], otherIndexKey, {
      KAFKA_TAPS_TOPIC: topic.topic,
      EXPORT_DIR: join(dir, 'replay-exports'),
    });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('[PII_INDEX_KEY_MISMATCH]');
    expect(await counts()).toEqual(before);
  });

  it('serve exporter --night: the exporter does not start with a wrong key', async () => {
    const run = await boarding(['serve', 'exporter', '--night', '2020-11-20'], otherBytesUnderK1, {
      EXPORT_QUEUE_PREFIX: `test-key-check-${randomBytes(4).toString('hex')}`,
      EXPORT_DIR: join(dir, 'night-exports'),
      SFTP_REMOTE_DIR: sftp.remoteDir,
      EXPORTER_PORT: '0',
    });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('[PII_DATA_KEY_MISMATCH]');
    expect(run.stdout).toBe('');
  });
});
