import { randomBytes } from 'node:crypto';
import { deliverDayExport } from '@boarding/delivery/deliver-day-export';
import { InMemoryTransport } from '@boarding/delivery/memory-transport';
import { exportSettings } from '@boarding/export/settings';
import { createTestTopic, produce, type TestTopic } from '@boarding/testing/kafka';
import {
  ANONYMOUS_CARD,
  createExporterRig,
  type ExporterRig,
  eventually,
  rechecks,
  seedHeartbeat,
  seedMatch,
  seedTaps,
} from './exporter.test-helpers';

const CARD = ANONYMOUS_CARD;

/**
 * SPEC §5: a day is never judged complete on data the ingest has not read (the gate reads the
 * ingest group's lag on a real Kafka topic), and a silent share of the fleet is alerted. Each
 * test has a rig of its own: a worker of another test would pick the job up.
 */
describe('exporter: the ingest gate and silent validators', () => {
  let rig: ExporterRig;
  let clock: Date;
  const transport = new InMemoryTransport();

  beforeEach(async () => {
    rig = await createExporterRig('gate', {
      sftp: false,
      overrides: { EXPORT_RECHECK_MINUTES: '0.005', LATE_WINDOW_DAYS: '0' },
    });
    await seedMatch(rig.db, rig.keyring, CARD);
  });
  afterEach(async () => {
    await rig.teardown();
  });

  it('an ingest that is behind on D holds the nightly export until the deadline, then it delivers, says so and alerts', async () => {
    const day = '2020-11-24';
    // Every validator the database knows of is complete: before the gate, that was "complete".
    await seedTaps(rig.db, day, [
      { validatorId: 'BUS-DONE-1', seq: 1, cardNo: CARD.cardNo, at: `${day}T08:00:00+03:00` },
    ]);
    await seedHeartbeat(rig.db, 'BUS-DONE-1', 1, '2020-11-25T00:05:00+03:00');
    // …but two taps of D sit in Kafka, unread by the ingest group (it is stalled).
    const topic: TestTopic = await createTestTopic(1);
    const stamp = Date.parse(`${day}T23:58:00+03:00`);
    await produce(topic.kafka, topic.topic, [
      { key: 'BUS-LATE-1', value: '{}', timestamp: stamp },
      { key: 'BUS-LATE-1', value: '{}', timestamp: stamp + 1000 },
    ]);
    try {
      clock = new Date('2020-11-25T01:00:00Z'); // 04:00 Istanbul
      const service = rig.createService({
        deps: { transport, now: () => clock, ingestBehind: undefined },
        overrides: {
          KAFKA_TAPS_TOPIC: topic.topic,
          INGEST_GROUP_ID: `gate-${randomBytes(4).toString('hex')}`,
        },
      });
      await service.start({ http: false, scheduler: false, worker: true });
      const before = await rechecks(service);
      await service.enqueueDay({
        day,
        trigger: 'nightly',
        waitForCompleteness: true,
        deadline: '2020-11-25T03:00:00.000Z',
      });
      await eventually(async () => expect(await rechecks(service)).toBeGreaterThanOrEqual(before + 2));
      expect(transport.calls.filter((c) => c.some((n) => n.includes('20201124')))).toEqual([]);
      const waiting = rig.logs.filter((l) => l.msg === 'day not complete yet: waiting' && l.day === day);
      expect(waiting[0]).toMatchObject({
        withGaps: 0,
        awaitingUpload: 0,
        ingestBehind: { messages: 2, oldestUnreadAt: new Date(stamp).toISOString() },
      });

      clock = new Date('2020-11-25T03:00:00.001Z'); // the deadline passed: deliver, and say so
      expect(await service.waitForDay(day, { timeoutMs: 20000 })).toMatchObject({
        state: 'completed',
        result: { outcome: 'DELIVERED', version: 1, rows: 1 },
      });
      const manifest = JSON.parse(
        transport.files.get('BINIS_ESHOT_20201124_v1.manifest.json')?.toString() ?? '{}',
      );
      expect(manifest.stats.ingestBehind).toEqual({
        messages: 2,
        oldestUnreadAt: new Date(stamp).toISOString(),
      });
      expect(rig.logs.find((l) => l.alert === true && l.day === day)?.msg).toMatch(
        /delivered while the ingest was 2 message\(s\) behind/,
      );
      const incomplete = await service.metrics.deliveredIncomplete.get();
      expect(incomplete.values.find((v) => v.labels.reason === 'ingest-behind')?.value).toBe(1);
    } finally {
      await topic.drop();
    }
  });

  it('lists the validators silent on D, never waits for them, and alerts when too much of the fleet is silent', async () => {
    const day = '2020-11-26';
    // The week before: five validators. On D: one taps, one only heartbeats past the day (idle in
    // the depot), three send nothing at all.
    for (const v of ['BUS-A-1', 'BUS-B-1', 'BUS-C-1', 'BUS-D-1', 'BUS-E-1']) {
      await seedTaps(rig.db, '2020-11-23', [
        { validatorId: v, seq: 1, cardNo: CARD.cardNo, at: '2020-11-23T09:00:00+03:00' },
      ]);
    }
    await seedTaps(rig.db, day, [
      { validatorId: 'BUS-A-1', seq: 2, cardNo: CARD.cardNo, at: `${day}T09:00:00+03:00` },
    ]);
    await seedHeartbeat(rig.db, 'BUS-A-1', 2, '2020-11-27T00:05:00+03:00');
    await seedHeartbeat(rig.db, 'BUS-B-1', 1, '2020-11-27T00:10:00+03:00');
    clock = new Date('2020-11-27T01:00:00Z');
    const service = rig.createService({ deps: { transport, now: () => clock } });
    await service.start({ http: false, scheduler: false, worker: true });
    await service.enqueueDay({
      day,
      trigger: 'nightly',
      waitForCompleteness: true,
      deadline: '2020-11-27T03:00:00.000Z',
    });
    // Silent validators do not hold the export back: delivered before the deadline.
    expect(await service.waitForDay(day, { timeoutMs: 20000 })).toMatchObject({
      state: 'completed',
      result: { outcome: 'DELIVERED', version: 1 },
    });
    const manifest = JSON.parse(
      transport.files.get('BINIS_ESHOT_20201126_v1.manifest.json')?.toString() ?? '{}',
    );
    expect(manifest.stats).toMatchObject({
      validatorsExpected: 5,
      validatorsSilent: ['BUS-C-1', 'BUS-D-1', 'BUS-E-1'],
      ingestBehind: { messages: 0, oldestUnreadAt: null },
    });
    const alert = rig.logs.find((l) => l.alert === true && l.day === day);
    expect(alert).toMatchObject({ validatorsSilent: 3, validatorsExpected: 5 });
    expect(alert?.msg).toMatch(/silent fleet on 2020-11-26: 3 of 5/);
    expect((await service.metrics.silentFleetAlerts.get()).values[0]?.value).toBe(1);
    expect((await service.metrics.silentRatio.get()).values[0]?.value).toBeCloseTo(0.6);
  });

  it('an unchanged nightly run is judged on its own build, not on the manifest delivered before', async () => {
    const day = '2020-11-28';
    await seedTaps(rig.db, day, [
      { validatorId: 'BUS-A-1', seq: 1, cardNo: CARD.cardNo, at: `${day}T09:00:00+03:00` },
    ]);
    await seedHeartbeat(rig.db, 'BUS-A-1', 1, '2020-11-29T00:05:00+03:00');
    // Delivered by hand first (`boarding export run` reads no Kafka lag: ingestBehind null).
    await deliverDayExport(
      { pool: rig.db.pool, keyring: rig.keyring, settings: exportSettings(rig.env), transport },
      { day, deliver: true, trigger: 'cli' },
    );
    clock = new Date('2020-11-29T01:00:00Z');
    const service = rig.createService({ deps: { transport, now: () => clock } });
    await service.start({ http: false, scheduler: false, worker: true });
    await service.enqueueDay({
      day,
      trigger: 'nightly',
      waitForCompleteness: true,
      deadline: '2020-11-29T03:00:00.000Z',
    });
    expect(await service.waitForDay(day, { timeoutMs: 20000 })).toMatchObject({
      state: 'completed',
      result: { outcome: 'UNCHANGED', version: 1 },
    });
    expect(rig.logs.filter((l) => l.alert === true && l.day === day)).toEqual([]);
    const incomplete = await service.metrics.deliveredIncomplete.get();
    expect(incomplete.values.find((v) => v.labels.reason === 'ingest-behind')?.value ?? 0).toBe(0);
  });
});
