import { InMemoryTransport } from '@boarding/delivery/memory-transport';
import {
  ANONYMOUS_CARD,
  createExporterRig,
  type ExporterRig,
  eventually,
  ledgerRows,
  rechecks,
  seedHeartbeat,
  seedMatch,
  seedTaps,
} from './exporter.test-helpers';

const CARD = ANONYMOUS_CARD;

/**
 * The nightly export of D waits for completeness until the deadline on D+1 (SPEC §5). The
 * business clock is the test's; BullMQ sleeps in real time, EXPORT_RECHECK_MINUTES=0.005 (0.3 s).
 */
describe('exporter: waiting for a complete day', () => {
  let rig: ExporterRig;
  let clock: Date;
  const transport = new InMemoryTransport();

  beforeAll(async () => {
    rig = await createExporterRig('complete', {
      sftp: false,
      overrides: { EXPORT_RECHECK_MINUTES: '0.005', LATE_WINDOW_DAYS: '0' },
    });
    await seedMatch(rig.db, rig.keyring, CARD);
  });
  afterAll(async () => {
    await rig.teardown();
  });

  it('re-checks an incomplete day before the deadline and delivers it after, naming the validators with gaps', async () => {
    const day = '2020-11-20';
    // GOOD: 1..3 and a heartbeat after midnight, complete. GAPPY: 10, 11, 14: 12..13 missing.
    await seedTaps(rig.db, day, [
      ...[1, 2, 3].map((seq) => ({
        validatorId: 'BUS-GOOD-1',
        seq,
        cardNo: CARD.cardNo,
        at: `${day}T09:0${seq}:00+03:00`,
      })),
      ...[10, 11, 14].map((seq) => ({
        validatorId: 'BUS-GAPPY-1',
        seq,
        cardNo: CARD.cardNo,
        at: `${day}T10:${seq}:00+03:00`,
      })),
    ]);
    await seedHeartbeat(rig.db, 'BUS-GOOD-1', 3, '2020-11-21T00:05:00+03:00');
    await seedHeartbeat(rig.db, 'BUS-GAPPY-1', 14, '2020-11-21T00:05:00+03:00');

    clock = new Date('2020-11-21T02:00:00Z'); // 05:00 Istanbul, before the 06:00 deadline
    const service = rig.createService({ deps: { transport, now: () => clock } });
    await service.start({ http: false, scheduler: false, worker: true });
    const before = await rechecks(service);
    await service.enqueueDay({
      day,
      trigger: 'nightly',
      waitForCompleteness: true,
      deadline: '2020-11-21T03:00:00.000Z',
    });

    // Slept and woke up to look again at least twice; nothing sent, nothing in the ledger.
    await eventually(async () => expect(await rechecks(service)).toBeGreaterThanOrEqual(before + 2));
    expect(transport.calls).toEqual([]);
    expect(await ledgerRows(rig.db, day)).toEqual([]);
    const waiting = rig.logs.filter((l) => l.msg === 'day not complete yet: waiting' && l.day === day);
    expect(waiting[0]).toMatchObject({
      validatorsSeen: 2,
      validatorsComplete: 1,
      withGaps: 1,
      awaitingUpload: 0,
    });
    // Progress is counted, not listed.
    expect(JSON.stringify(waiting)).not.toContain('BUS-GAPPY-1');

    clock = new Date('2020-11-21T03:00:00.001Z'); // past the deadline: deliver what there is
    const outcome = await service.waitForDay(day, { timeoutMs: 20000 });
    expect(outcome).toMatchObject({
      state: 'completed',
      result: { outcome: 'DELIVERED', version: 1, rows: 6 },
    });
    const manifest = JSON.parse(
      transport.files.get('BINIS_ESHOT_20201120_v1.manifest.json')?.toString() ?? '{}',
    );
    expect(manifest.generatedAt).toBe('2020-11-21T03:00:00.001Z');
    expect(manifest.stats).toMatchObject({
      validatorsSeen: 2,
      validatorsComplete: 1,
      validatorsWithGaps: [{ validatorId: 'BUS-GAPPY-1', missing: [[12, 13]] }],
      validatorsAwaitingUpload: [],
    });
    expect((await ledgerRows(rig.db, day)).map((r) => [r.outcome, r.trigger])).toEqual([
      ['DELIVERED', 'nightly'],
    ]);
  });

  it('delivers before the deadline as soon as the day is complete', async () => {
    const day = '2020-11-22';
    await seedTaps(
      rig.db,
      day,
      [1, 2, 4].map((seq) => ({
        validatorId: 'TRAM-1',
        seq,
        cardNo: CARD.cardNo,
        at: `${day}T11:0${seq}:00+03:00`,
      })),
    );
    await seedHeartbeat(rig.db, 'TRAM-1', 4, '2020-11-23T00:01:00+03:00');
    clock = new Date('2020-11-23T01:00:00Z'); // 04:00 Istanbul
    const service = rig.createService({ deps: { transport, now: () => clock } });
    await service.start({ http: false, scheduler: false, worker: true });
    const before = await rechecks(service);
    await service.enqueueDay({
      day,
      trigger: 'nightly',
      waitForCompleteness: true,
      deadline: '2020-11-23T03:00:00.000Z',
    });
    await eventually(async () => expect(await rechecks(service)).toBeGreaterThan(before));

    // The late upload arrives: seq 3 fills the gap, still before the deadline.
    await seedTaps(rig.db, day, [
      { validatorId: 'TRAM-1', seq: 3, cardNo: CARD.cardNo, at: `${day}T11:03:00+03:00` },
    ]);
    expect(await service.waitForDay(day, { timeoutMs: 20000 })).toMatchObject({
      state: 'completed',
      result: { outcome: 'DELIVERED', rows: 4 },
    });
    const manifest = JSON.parse(
      transport.files.get('BINIS_ESHOT_20201122_v1.manifest.json')?.toString() ?? '{}',
    );
    expect(manifest.generatedAt).toBe('2020-11-23T01:00:00.000Z');
    expect(manifest.stats).toMatchObject({ validatorsComplete: 1, validatorsWithGaps: [] });
  });
});
