import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addDays, serviceDayOf } from '@boarding/contracts/time';
import type { RetentionReport } from '@boarding/retention/run-retention';
import { createTestDatabase, type TestDatabase } from '@boarding/testing/database';
import { registerRetention } from './retention';
import { runCommand } from './run-command.test-helpers';

// The command runs on the real clock: days are placed relative to today in Istanbul.
const today = serviceDayOf(Date.now());
const compact = (day: string) => day.replaceAll('-', '');

describe('boarding retention run', () => {
  let db: TestDatabase;
  let dir: string;
  const env = () => ({
    DATABASE_URL: db.url,
    EXPORT_DIR: dir,
    RETENTION_DAYS: '90',
    EXPORT_KEEP_DAYS: '10',
    DEAD_LETTER_RAW_DAYS: '10',
  });
  const boarding = (args: string[]) => runCommand(registerRetention, args, env());

  beforeAll(async () => {
    db = await createTestDatabase('cli_retention');
    dir = await mkdtemp(join(tmpdir(), 'cli-retention-'));
    for (const [day, seq] of [
      [addDays(today, -91), 1],
      [addDays(today, -90), 2],
    ] as const) {
      await db.pool.query('select ensure_boardings_partition($1::date)', [day]);
      await db.pool.query(
        `insert into boardings (service_day, validator_id, seq, card_no, tapped_at, mode, line_code, result,
                                kafka_partition, kafka_offset, kafka_timestamp)
         values ($1, 'BUS-1-1', $2, '0412345678901234', $3, 'BUS', '202', 'ACCEPTED', 0, $2, $3)`,
        [day, seq, `${day}T10:00:00+03:00`],
      );
    }
    await writeFile(join(dir, `BINIS_ESHOT_${compact(addDays(today, -11))}_v1.csv`), 'old');
    await writeFile(join(dir, `BINIS_ESHOT_${compact(addDays(today, -10))}_v1.csv`), 'kept');
  });

  afterAll(async () => {
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('--dry-run --json prints what it would delete and deletes nothing', async () => {
    const { stdout, stderr } = await boarding(['retention', 'run', '--dry-run', '--json']);
    const report = JSON.parse(stdout) as RetentionReport;
    expect(report).toMatchObject({
      dryRun: true,
      cutoffs: { tapsBefore: addDays(today, -90), filesBefore: addDays(today, -10) },
      counts: { taps: 1, dayPartitions: 1, files: 1, fileBytes: 3 },
    });
    // --json keeps stderr free of progress lines too.
    expect(stderr).toBe('');
    expect((await db.pool.query('select count(*)::int as n from boardings')).rows).toEqual([{ n: 2 }]);
    expect(await readdir(dir)).toHaveLength(2);
  });

  it('deletes, prints a summary per kind with its cutoff, never a value', async () => {
    const { stdout, stderr } = await boarding(['retention', 'run']);
    expect(stdout).toContain('retention run #');
    expect(stdout).toMatch(/stored taps\s*│\s*\S+\s*│\s*1 \(1 whole day partitions\)/);
    expect(stdout).toMatch(/local copies of day files\s*│\s*\S+\s*│\s*1 \(3 bytes\)/);
    expect(stdout).not.toContain('0412345678901234');
    expect(stderr).toContain('files done');
    expect((await db.pool.query('select service_day::text as day from boardings')).rows).toEqual([
      { day: addDays(today, -90) },
    ]);
    expect(await readdir(dir)).toEqual([`BINIS_ESHOT_${compact(addDays(today, -10))}_v1.csv`]);
    const { rows } = await db.pool.query('select source, dry_run, outcome from retention_runs order by id');
    expect(rows).toEqual([
      { source: 'cli', dry_run: true, outcome: 'COMPLETED' },
      { source: 'cli', dry_run: false, outcome: 'COMPLETED' },
    ]);
  });

  it('refuses a RETENTION_DAYS shorter than the late window could re-export', async () => {
    await expect(
      runCommand(registerRetention, ['retention', 'run'], { ...env(), RETENTION_DAYS: '30' }),
    ).rejects.toThrow(/RETENTION_DAYS/);
  });
});
