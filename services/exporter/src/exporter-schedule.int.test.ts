import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Job } from 'bullmq';
import {
  createExporterRig,
  type ExporterRig,
  ledgerRows,
  PERSONAL_CARD,
  seedHeartbeat,
  seedMatch,
  seedTaps,
} from './exporter.test-helpers';
import type { ExporterService } from './exporter-service';
import { NIGHTLY_SCHEDULER_ID } from './jobs/nightly';
import { runNight } from './run-night';

const HEADER =
  'tc_kimlik_no,hes_kodu,kart_no,kart_turu,binis_zamani,ulasim_turu,hat_kodu,arac_no,durak_kodu,dogrulayici_no,islem_no,sonuc,red_nedeni\r\n';
const CARD = PERSONAL_CARD;

// Oracles written independently of the code under test (no contracts/time): Intl for the Istanbul
// wall clock, plain UTC arithmetic for the days.
const istanbul = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Europe/Istanbul',
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
});
const istanbulWall = (ms: number) => istanbul.format(new Date(ms)).replace(', ', 'T');
const shiftDay = (day: string, days: number) =>
  new Date(Date.parse(`${day}T00:00:00Z`) + days * 86400000).toISOString().slice(0, 10);

/** A matched day: two taps of one card in the file, one unmatched tap not, the validator complete. */
async function seedCompleteDay(rig: ExporterRig, day: string): Promise<string> {
  await seedMatch(rig.db, rig.keyring, CARD);
  await seedTaps(rig.db, day, [
    { validatorId: 'BUS-1-1', seq: 1, cardNo: CARD.cardNo, at: `${day}T08:15:42.120+03:00` },
    {
      validatorId: 'BUS-1-1',
      seq: 2,
      cardNo: CARD.cardNo,
      at: `${day}T23:59:59.999+03:00`,
      result: 'REJECTED',
      rejectReason: 'HES_RISKY',
    },
    { validatorId: 'BUS-1-1', seq: 3, cardNo: '0400000000000C03', at: `${day}T12:00:00+03:00` },
  ]);
  await seedHeartbeat(rig.db, 'BUS-1-1', 3, `${shiftDay(day, 1)}T00:05:00+03:00`);
  return (
    HEADER +
    `10000000146,ABCD1234X9,0400000000000A01,KISISEL,${day}T08:15:42+03:00,OTOBUS,202,35-ESH-3041,,BUS-1-1,1,KABUL,\r\n` +
    `10000000146,ABCD1234X9,0400000000000A01,KISISEL,${day}T23:59:59+03:00,OTOBUS,202,35-ESH-3041,,BUS-1-1,2,RED,HES_RISKY\r\n`
  );
}

const fileName = (day: string, version: number) => `BINIS_ESHOT_${day.replaceAll('-', '')}_v${version}.csv`;

async function nightlyJobs(service: ExporterService): Promise<Job[]> {
  return (await service.queue.getDelayed()).filter((j) => j.name === 'nightly');
}

describe('exporter: the nightly scheduler', () => {
  let rig: ExporterRig;

  beforeAll(async () => {
    rig = await createExporterRig('nightly', { sftp: true, overrides: { LATE_WINDOW_DAYS: '1' } });
  });
  afterAll(async () => {
    await rig.teardown();
  });

  it('fires at the next 03:30 Istanbul (00:30Z) and exports D−1 of Istanbul to the SFTP server', async () => {
    const service = rig.createService();
    await service.start({ http: false, scheduler: true, worker: true });

    // The next 00:30Z strictly after now: the cron's next firing in Europe/Istanbul (UTC+3).
    const now = Date.now();
    let next = Date.UTC(
      new Date(now).getUTCFullYear(),
      new Date(now).getUTCMonth(),
      new Date(now).getUTCDate(),
      0,
      30,
    );
    if (next <= now) next += 86400000;
    const [job, ...others] = await nightlyJobs(service);
    expect(others).toHaveLength(0);
    if (!job) throw new Error('the scheduler left no delayed nightly job');
    expect(job.opts.prevMillis).toBe(next);
    expect(job.timestamp + job.delay).toBeGreaterThanOrEqual(next - 5);
    expect(istanbulWall(next).slice(11)).toBe('03:30');
    expect((await service.queue.getJobScheduler(NIGHTLY_SCHEDULER_ID))?.next).toBe(next);

    // D is the Istanbul day that ended before the firing time.
    const day = shiftDay(istanbulWall(next).slice(0, 10), -1);
    const expected = await seedCompleteDay(rig, day);

    // Fire now instead of at 03:30: the job's scheduled time, not the clock, picks the day.
    await job.promote();
    const outcome = await service.waitForDay(day, { timeoutMs: 30000 });
    expect(outcome).toEqual({
      state: 'completed',
      result: {
        day,
        trigger: 'nightly',
        outcome: 'DELIVERED',
        version: 1,
        rows: 2,
        file: fileName(day, 1),
        deliveryAttempts: 1,
      },
    });
    // The late window (1 day): D−1 has no taps and was never delivered, so nothing is sent.
    expect(await service.waitForDay(shiftDay(day, -1), { timeoutMs: 30000 })).toMatchObject({
      state: 'completed',
      result: { day: shiftDay(day, -1), trigger: 'late-window', outcome: 'SKIPPED' },
    });

    const incoming = rig.sftp?.localDir ?? '';
    const manifestName = fileName(day, 1).replace(/\.csv$/, '.manifest.json');
    expect(readdirSync(incoming).sort()).toEqual([fileName(day, 1), manifestName].sort());
    const bytes = readFileSync(join(incoming, fileName(day, 1)));
    expect(bytes.toString('utf8')).toBe(expected);
    const manifest = JSON.parse(readFileSync(join(incoming, manifestName), 'utf8'));
    expect(manifest).toMatchObject({
      serviceDay: day,
      version: 1,
      file: fileName(day, 1),
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      rows: 2,
      supersedes: null,
      stats: { tapsStored: 3, matched: 2, unmatched: 1, validatorsSeen: 1, validatorsWithGaps: [] },
    });
    expect((await ledgerRows(rig.db, day)).map((r) => [r.version, r.outcome, r.trigger])).toEqual([
      [1, 'DELIVERED', 'nightly'],
    ]);

    // The worker scheduled the night after: one delayed nightly job, 24 h later.
    const [following] = await nightlyJobs(service);
    expect(following?.opts.prevMillis).toBe(next + 86400000);
  });
});

describe('exporter: two exporters on one queue', () => {
  let rig: ExporterRig;

  beforeAll(async () => {
    rig = await createExporterRig('twins', { sftp: true, overrides: { LATE_WINDOW_DAYS: '0' } });
  });
  afterAll(async () => {
    await rig.teardown();
  });

  it('share one scheduler and deliver a day both enqueue exactly once', async () => {
    const a = rig.createService();
    const b = rig.createService();
    await Promise.all([
      a.start({ http: false, scheduler: true, worker: true }),
      b.start({ http: false, scheduler: true, worker: true }),
    ]);
    expect(await a.queue.getJobSchedulers()).toHaveLength(1);
    expect(await nightlyJobs(a)).toHaveLength(1);

    const day = '2020-11-20';
    const expected = await seedCompleteDay(rig, day);
    const payload = { day, trigger: 'manual', waitForCompleteness: false, deadline: null } as const;
    const first = await Promise.all([a.enqueueDay(payload), b.enqueueDay(payload)]);
    expect(first.filter((r) => r.status === 'added')).toHaveLength(1);
    expect(first.map((r) => r.jobId)).toEqual(['export-2020-11-20', 'export-2020-11-20']);
    expect(await a.waitForDay(day, { timeoutMs: 30000 })).toMatchObject({
      state: 'completed',
      result: { outcome: 'DELIVERED', version: 1 },
    });

    // The next night both re-check it, the content unchanged. The enqueue lock makes the two take
    // turns: the second finds the first's job still queued (already-queued) or, when a worker
    // finished it in between (a re-check takes well under a second), finished again and replaces
    // it: a second, harmless UNCHANGED re-check. Never two jobs of the day at once.
    const again = await Promise.all([a.enqueueDay(payload), b.enqueueDay(payload)]);
    expect(again.filter((r) => r.status === 'replaced').length).toBeGreaterThanOrEqual(1);
    expect(again.every((r) => r.status === 'replaced' || r.status === 'already-queued')).toBe(true);
    expect(await b.waitForDay(day, { timeoutMs: 30000 })).toMatchObject({
      state: 'completed',
      result: { outcome: 'UNCHANGED', version: 1 },
    });

    const rows = await ledgerRows(rig.db, day);
    expect(rows.filter((r) => r.outcome === 'DELIVERED')).toHaveLength(1);
    expect(rows.every((r) => r.outcome === 'DELIVERED' || r.outcome === 'UNCHANGED')).toBe(true);
    const { rows: versions } = await rig.db.pool.query('select version from export_versions');
    expect(versions).toEqual([{ version: 1 }]);
    const incoming = rig.sftp?.localDir ?? '';
    expect(readdirSync(incoming).sort()).toEqual(
      [fileName(day, 1), fileName(day, 1).replace(/\.csv$/, '.manifest.json')].sort(),
    );
    expect(readFileSync(join(incoming, fileName(day, 1)), 'utf8')).toBe(expected);
  });

  it('runs one night on demand (serve exporter --night D): the job the 03:30 firing would enqueue, exact bytes', async () => {
    // A rig of its own: no other test's worker shares this queue, so this service runs the job.
    const own = await createExporterRig('night', { sftp: true });
    try {
      const service = own.createService();
      await service.start({ http: false, scheduler: false, worker: true });
      const day = '2020-11-12';
      const expected = await seedCompleteDay(own, day);
      const outcome = await runNight(service, own.env, day, { timeoutMs: 30000 });
      expect(outcome).toMatchObject({
        day,
        state: 'completed',
        result: {
          day,
          trigger: 'nightly',
          outcome: 'DELIVERED',
          version: 1,
          rows: 2,
          file: fileName(day, 1),
        },
      });
      expect(readFileSync(join(own.sftp?.localDir ?? '', fileName(day, 1)), 'utf8')).toBe(expected);
      // The alertable fact: the nightly export of this day ended well (00:00+03:00 of the day).
      const metrics = await service.ops.inject({ url: '/metrics' });
      expect(metrics.body).toContain(
        `boarding_export_last_nightly_day_seconds ${Date.parse(`${day}T00:00:00+03:00`) / 1000}`,
      );
    } finally {
      await own.teardown();
    }
  });
});
