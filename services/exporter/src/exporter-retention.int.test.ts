import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { addDays, serviceDayOf } from '@boarding/contracts/time';
import type { Job } from 'bullmq';
import { createExporterRig, type ExporterRig } from './exporter.test-helpers';
import { NIGHTLY_SCHEDULER_ID } from './jobs/nightly';
import { RETENTION_SCHEDULER_ID, type RetentionJobResult } from './jobs/retention';

const today = serviceDayOf(Date.now());
const compact = (day: string) => day.replaceAll('-', '');

describe('exporter: the nightly retention job (SPEC §11)', () => {
  let rig: ExporterRig;

  beforeAll(async () => {
    rig = await createExporterRig('retention', { sftp: false });
  });
  afterAll(async () => {
    await rig.teardown();
  });

  it('is scheduled on RETENTION_CRON on its own queue and deletes what is past its age when it fires', async () => {
    const service = rig.createService();
    await service.start({ http: false, scheduler: true, worker: true });

    expect(await service.retentionQueue.getJobScheduler(RETENTION_SCHEDULER_ID)).toMatchObject({
      pattern: '0 4 * * *',
      tz: 'Europe/Istanbul',
    });
    // The export queue keeps its one scheduler.
    expect((await service.queue.getJobSchedulers()).map((s) => s.key)).toEqual([NIGHTLY_SCHEDULER_ID]);

    // 181 days old goes, 180 stays (RETENTION_DAYS 180); local copies: 31 go, 30 stay.
    const old = addDays(today, -181);
    const kept = addDays(today, -180);
    for (const [day, seq] of [
      [old, 1],
      [kept, 2],
    ] as const) {
      await rig.db.pool.query('select ensure_boardings_partition($1::date)', [day]);
      await rig.db.pool.query(
        `insert into boardings (service_day, validator_id, seq, card_no, tapped_at, mode, line_code, result,
                                kafka_partition, kafka_offset, kafka_timestamp)
         values ($1, 'BUS-1-1', $2, '0412345678901234', $3, 'BUS', '202', 'ACCEPTED', 0, $2, $3)`,
        [day, seq, `${day}T10:00:00+03:00`],
      );
    }
    const dir = rig.env.EXPORT_DIR ?? '';
    await writeFile(join(dir, `BINIS_ESHOT_${compact(addDays(today, -31))}_v1.csv`), 'old');
    await writeFile(join(dir, `BINIS_ESHOT_${compact(addDays(today, -30))}_v1.csv`), 'kept');

    // Fire now instead of at 04:00.
    const [job, ...others] = (await service.retentionQueue.getDelayed()) as Job[];
    expect(others).toHaveLength(0);
    if (!job?.id) throw new Error('the scheduler left no delayed retention job');
    await job.promote();
    const result = await waitForCompleted(service.retentionQueue, job.id);
    expect(result.counts).toMatchObject({ taps: 1, dayPartitions: 1, files: 1 });

    expect((await rig.db.pool.query('select service_day::text as day from boardings')).rows).toEqual([
      { day: kept },
    ]);
    expect(await readdir(dir)).toEqual([`BINIS_ESHOT_${compact(addDays(today, -30))}_v1.csv`]);
    const { rows } = await rig.db.pool.query('select source, dry_run, outcome, counts from retention_runs');
    expect(rows).toEqual([{ source: 'job', dry_run: false, outcome: 'COMPLETED', counts: result.counts }]);
  });
});

async function waitForCompleted(
  queue: { getJobState(id: string): Promise<string>; getJob(id: string): Promise<Job | undefined> },
  id: string,
): Promise<RetentionJobResult> {
  const giveUp = Date.now() + 30000;
  for (;;) {
    const state = await queue.getJobState(id);
    if (state === 'completed') return (await queue.getJob(id))?.returnvalue as RetentionJobResult;
    if (state === 'failed')
      throw new Error(`retention job failed: ${(await queue.getJob(id))?.failedReason}`);
    if (Date.now() > giveUp) throw new Error(`retention job still ${state}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
