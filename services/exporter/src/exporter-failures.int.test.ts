import { readdirSync } from 'node:fs';
import { InMemoryTransport } from '@boarding/delivery/memory-transport';
import { createSftpTransport } from '@boarding/delivery/sftp-transport';
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

const CARD = PERSONAL_CARD;

async function seedDay(rig: ExporterRig, day: string): Promise<void> {
  await seedTaps(rig.db, day, [
    { validatorId: 'FERRY-1', seq: 1, cardNo: CARD.cardNo, at: `${day}T07:30:00+03:00` },
    { validatorId: 'FERRY-1', seq: 2, cardNo: CARD.cardNo, at: `${day}T18:30:00+03:00` },
  ]);
  await seedHeartbeat(rig.db, 'FERRY-1', 2, `${day}T23:59:00+03:00`);
}

async function metricValue(service: ExporterService, name: string, labels: Record<string, string> = {}) {
  const metric = await service.metrics.registry.getSingleMetric(name)?.get();
  const sample = metric?.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x));
  return sample?.value ?? 0;
}

const manual = (day: string) =>
  ({ day, trigger: 'manual', waitForCompleteness: false, deadline: null }) as const;

describe('exporter: a day that fails for good', () => {
  let rig: ExporterRig;

  beforeAll(async () => {
    rig = await createExporterRig('failures', {
      sftp: true,
      overrides: { EXPORT_JOB_ATTEMPTS: '2', DELIVERY_ATTEMPTS: '1', LATE_WINDOW_DAYS: '0' },
    });
    await seedMatch(rig.db, rig.keyring, CARD);
  });
  afterAll(async () => {
    await rig.teardown();
  });

  it('raises the alert once its tries are spent, records why, and is delivered when asked again', async () => {
    const day = '2020-11-20';
    await seedDay(rig, day);
    const down = () =>
      Object.assign(new Error('connect ECONNREFUSED 192.0.2.1:22'), { code: 'ECONNREFUSED' });
    const transport = new InMemoryTransport().failNext(
      { kind: 'unreachable', error: down() },
      { kind: 'unreachable', error: down() },
    );
    const service = rig.createService({ deps: { transport } });
    await service.start({ http: false, scheduler: false, worker: true });

    await service.enqueueDay(manual(day));
    expect(await service.waitForDay(day, { timeoutMs: 20000 })).toEqual({
      state: 'failed',
      attemptsMade: 2,
      failedReason: 'delivery failed after 1 attempt(s): connect ECONNREFUSED 192.0.2.1:22',
    });

    // The alert: one error line naming the day and the reason, the counter, the gauge.
    const alerts = rig.logs.filter((l) => l.level === 50 && l.alert === true);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ job: 'export-day', day, attemptsMade: 2 });
    expect(alerts[0]?.msg).toContain(`export of ${day} failed for good`);
    expect(alerts[0]?.msg).toContain('ECONNREFUSED');
    expect(await metricValue(service, 'boarding_export_alerts_total', { name: 'export-day' })).toBe(1);
    expect(await metricValue(service, 'boarding_export_failing_days')).toBe(1);
    expect(
      await metricValue(service, 'boarding_export_jobs_total', { name: 'export-day', status: 'retrying' }),
    ).toBe(1);
    expect(
      await metricValue(service, 'boarding_export_jobs_total', { name: 'export-day', status: 'failed' }),
    ).toBe(1);
    // Personal data never reaches a log line.
    expect(JSON.stringify(rig.logs)).not.toMatch(/10000000146|ABCD1234X9/);

    // The ledger says why, one row per delivery try.
    expect(
      (await ledgerRows(rig.db, day)).map((r) => [r.version, r.attempt, r.outcome, r.error_code, r.error]),
    ).toEqual([
      [1, 1, 'FAILED', 'ECONNREFUSED', 'connect ECONNREFUSED 192.0.2.1:22'],
      [1, 1, 'FAILED', 'ECONNREFUSED', 'connect ECONNREFUSED 192.0.2.1:22'],
    ]);

    // The next night: the failed job is replaced, the receiver is back, the day goes out.
    expect(await service.enqueueDay(manual(day))).toMatchObject({ status: 'replaced' });
    expect(await service.waitForDay(day, { timeoutMs: 20000 })).toMatchObject({
      state: 'completed',
      result: { outcome: 'DELIVERED', version: 1 },
    });
    expect([...transport.files.keys()].sort()).toEqual([
      'BINIS_ESHOT_20201120_v1.csv',
      'BINIS_ESHOT_20201120_v1.manifest.json',
    ]);
    expect(await metricValue(service, 'boarding_export_failing_days')).toBe(0);
    expect(await metricValue(service, 'boarding_export_days_total', { outcome: 'DELIVERED' })).toBe(1);
    expect(await metricValue(service, 'boarding_export_last_success_timestamp_seconds')).toBeGreaterThan(0);
  });

  it('fails at once, without spending its tries, when the SFTP server shows another host key', async () => {
    const day = '2020-11-21';
    await seedDay(rig, day);
    const sftp = rig.sftp;
    if (!sftp) throw new Error('the rig has no SFTP directory');
    const impostorPin = `SHA256:${'A'.repeat(43)}`;
    const service = rig.createService({
      deps: {
        transport: createSftpTransport({
          ...sftp.settings,
          hostKeySha256: impostorPin,
          remoteDir: sftp.remoteDir,
        }),
      },
      // A queue of its own: the first test's worker (with a working transport) must not take the job.
      overrides: { EXPORT_QUEUE: 'host-key', EXPORT_JOB_ATTEMPTS: '3', DELIVERY_ATTEMPTS: '3' },
    });
    await service.start({ http: false, scheduler: false, worker: true });
    const alertsBefore = await metricValue(service, 'boarding_export_alerts_total', { name: 'export-day' });

    await service.enqueueDay(manual(day));
    const outcome = await service.waitForDay(day, { timeoutMs: 20000 });
    expect(outcome).toMatchObject({ state: 'failed', attemptsMade: 1 });
    expect(outcome.state === 'failed' && outcome.failedReason).toMatch(
      /^SFTP_HOST_KEY_MISMATCH: .*pinned SHA256:A{43}/,
    );

    const rows = await ledgerRows(rig.db, day);
    expect(rows.map((r) => [r.attempt, r.outcome, r.error_code])).toEqual([
      [1, 'FAILED', 'SFTP_HOST_KEY_MISMATCH'],
    ]);
    expect(await metricValue(service, 'boarding_export_alerts_total', { name: 'export-day' })).toBe(
      alertsBefore + 1,
    );
    expect(rig.logs.filter((l) => l.level === 50 && l.alert === true && l.day === day)).toHaveLength(1);
    expect(readdirSync(sftp.localDir)).toEqual([]);
  });
});

describe('exporter: a try that hangs past its timeout', () => {
  let rig: ExporterRig;

  beforeAll(async () => {
    rig = await createExporterRig('hung', {
      sftp: false,
      overrides: {
        EXPORT_JOB_TIMEOUT_MS: '1000',
        EXPORT_JOB_ATTEMPTS: '2',
        DELIVERY_ATTEMPTS: '1',
        LATE_WINDOW_DAYS: '0',
      },
    });
    await seedMatch(rig.db, rig.keyring, CARD);
  });
  afterAll(async () => {
    await rig.teardown();
  });

  it('is really stopped (its upload aborted, the day lock let go), so the next try delivers the same version', async () => {
    const day = '2020-11-21';
    await seedDay(rig, day);
    // The first upload stalls mid-file and would hang forever: a server that stopped answering.
    const transport = new InMemoryTransport().failNext({
      kind: 'hang',
      name: 'BINIS_ESHOT_20201121_v1.csv',
      afterBytes: 10,
    });
    const service = rig.createService({ deps: { transport } });
    await service.start({ http: false, scheduler: false, worker: true });
    await service.enqueueDay(manual(day));
    expect(await service.waitForDay(day, { timeoutMs: 30000 })).toMatchObject({
      state: 'completed',
      result: { outcome: 'DELIVERED', version: 1, deliveryAttempts: 1 },
    });
    // The stuck try was stopped and recorded; the next one sent v1 (the number it had reserved).
    expect((await ledgerRows(rig.db, day)).map((r) => [r.version, r.outcome, r.error_code])).toEqual([
      [1, 'FAILED', 'JOB_TIMEOUT'],
      [1, 'DELIVERED', null],
    ]);
    expect(transport.files.has('BINIS_ESHOT_20201121_v1.csv')).toBe(true);
    expect([...transport.files.keys()].filter((n) => n.endsWith('.part'))).toEqual([]);
  });
});
