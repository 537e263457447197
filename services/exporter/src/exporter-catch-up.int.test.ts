import { InMemoryTransport } from '@boarding/delivery/memory-transport';
import {
  createExporterRig,
  type ExporterRig,
  eventually,
  PERSONAL_CARD,
  seedHeartbeat,
  seedMatch,
  seedTaps,
} from './exporter.test-helpers';
import { NIGHTLY_SCHEDULER_ID } from './jobs/nightly';

const CARD = PERSONAL_CARD;

async function seedCompleteDay(rig: ExporterRig, day: string, next: string): Promise<void> {
  await seedTaps(rig.db, day, [
    { validatorId: 'BUS-1-1', seq: Number(day.slice(-2)), cardNo: CARD.cardNo, at: `${day}T08:00:00+03:00` },
  ]);
  await seedHeartbeat(rig.db, 'BUS-1-1', Number(day.slice(-2)), `${next}T00:05:00+03:00`);
}

async function nightlyRuns(rig: ExporterRig) {
  const { rows } = await rig.db.pool.query<{ fired_at: Date; service_day: string; source: string }>(
    `select fired_at, to_char(service_day, 'YYYY-MM-DD') as service_day, source from nightly_runs order by fired_at`,
  );
  return rows.map((r) => `${r.fired_at.toISOString()} ${r.service_day} ${r.source}`);
}

/**
 * SPEC §5: an exporter that starts after firings it missed runs those nights at once, oldest
 * first, from PostgreSQL's record of the nights run (not Redis's); a scheduler Redis lost is
 * re-created and said so.
 */
describe('exporter: missed nights and a lost scheduler', () => {
  let rig: ExporterRig;
  const transport = new InMemoryTransport();
  const clock = new Date('2020-11-23T06:00:00Z'); // 09:00 Istanbul

  beforeAll(async () => {
    rig = await createExporterRig('catchup', {
      sftp: false,
      overrides: { EXPORT_CRON: '30 3 * * *', LATE_WINDOW_DAYS: '1', EXPORT_RECHECK_MINUTES: '0.005' },
    });
    await seedMatch(rig.db, rig.keyring, CARD);
    await seedCompleteDay(rig, '2020-11-21', '2020-11-22');
    await seedCompleteDay(rig, '2020-11-22', '2020-11-23');
    // The last night that ran: 03:30 on 21 Nov (it exported the 20th). The exporter was then
    // down through the nights of the 22nd and the 23rd, and comes back at 09:00 on the 23rd.
    await rig.db.pool.query(
      `insert into nightly_runs (fired_at, service_day, source) values ('2020-11-21T00:30:00Z', '2020-11-20', 'scheduler')`,
    );
  });
  afterAll(async () => {
    await rig.teardown();
  });

  it('an exporter back after missed nights runs them at once, oldest first, and records them', async () => {
    const service = rig.createService({ deps: { transport, now: () => clock } });
    await service.start({ http: false, scheduler: true, worker: true });
    for (const day of ['2020-11-21', '2020-11-22']) {
      expect(await service.waitForDay(day, { timeoutMs: 30000 })).toMatchObject({
        state: 'completed',
        result: { day, trigger: 'nightly', outcome: 'DELIVERED', version: 1 },
      });
    }
    expect(transport.files.has('BINIS_ESHOT_20201121_v1.csv')).toBe(true);
    expect(transport.files.has('BINIS_ESHOT_20201122_v1.csv')).toBe(true);
    await eventually(async () =>
      expect(await nightlyRuns(rig)).toEqual([
        '2020-11-21T00:30:00.000Z 2020-11-20 scheduler',
        '2020-11-22T00:30:00.000Z 2020-11-21 catch-up',
        '2020-11-23T00:30:00.000Z 2020-11-22 catch-up',
      ]),
    );
    expect((await service.metrics.missedNights.get()).values[0]?.value).toBe(2);
    // A second exporter starting now finds nothing missed.
    const second = rig.createService({ deps: { transport, now: () => clock } });
    expect(await second.catchUpMissedNights()).toEqual([]);
  });

  it('a job scheduler Redis lost is re-created, logged as an alert and counted', async () => {
    const service = rig.createService({ deps: { transport, now: () => clock } });
    await service.start({ http: false, scheduler: true, worker: false });
    expect(await service.checkScheduler()).toBe('present');
    // Redis lost its data (here: only the scheduler).
    await service.queue.removeJobScheduler(NIGHTLY_SCHEDULER_ID);
    expect(await service.queue.getJobScheduler(NIGHTLY_SCHEDULER_ID)).toBeFalsy();
    expect(await service.checkScheduler()).toBe('recreated');
    expect(await service.queue.getJobScheduler(NIGHTLY_SCHEDULER_ID)).toMatchObject({
      pattern: '30 3 * * *',
    });
    expect((await service.metrics.schedulerRecreated.get()).values[0]?.value).toBe(1);
    expect(rig.logs.find((l) => l.alert === true && /scheduler was missing/.test(l.msg))).toBeDefined();
  });
});
