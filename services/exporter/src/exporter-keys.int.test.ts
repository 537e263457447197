import { randomBytes } from 'node:crypto';
import { InMemoryTransport } from '@boarding/delivery/memory-transport';
import { Keyring } from '@boarding/encryption/keyring';
import {
  createExporterRig,
  type ExporterRig,
  PERSONAL_CARD,
  seedHeartbeat,
  seedMatch,
  seedTaps,
} from './exporter.test-helpers';

const CARD = PERSONAL_CARD;

describe('exporter: a wrong data key in the nightly decrypt', () => {
  let rig: ExporterRig;

  beforeAll(async () => {
    rig = await createExporterRig('keys', { sftp: false, overrides: { EXPORT_JOB_ATTEMPTS: '4' } });
    await seedMatch(rig.db, rig.keyring, CARD);
  });
  afterAll(async () => {
    await rig.teardown();
  });

  it('fails the day once with PII_DECRYPT_FAILED instead of rebuilding it on every try', async () => {
    const day = '2020-11-20';
    await seedTaps(rig.db, day, [
      { validatorId: 'FERRY-1', seq: 1, cardNo: CARD.cardNo, at: `${day}T07:30:00+03:00` },
    ]);
    await seedHeartbeat(rig.db, 'FERRY-1', 1, `${day}T23:59:00+03:00`);
    // The kid the registry was sealed under, with other bytes: a regenerated key file.
    const [kid] = rig.keyring.keyIds();
    if (kid === undefined) throw new Error('the rig keyring has no data key');
    const wrong = new Keyring({
      activeKeyId: kid,
      dataKeys: { [kid]: randomBytes(32) },
      indexKey: randomBytes(32),
    });
    const transport = new InMemoryTransport();
    const service = rig.createService({ deps: { keyring: wrong, transport } });
    await service.start({ http: false, scheduler: false, worker: true });

    await service.enqueueDay({ day, trigger: 'manual', waitForCompleteness: false, deadline: null });
    const outcome = await service.waitForDay(day, { timeoutMs: 30000 });
    expect(outcome).toMatchObject({ state: 'failed', attemptsMade: 1 });
    expect(outcome.state === 'failed' && outcome.failedReason).toMatch(/^PII_DECRYPT_FAILED: /);
    expect(transport.files.size).toBe(0);
    // Neither the TC nor the HES code reaches a log line.
    expect(JSON.stringify(rig.logs).includes(CARD.tcKimlikNo)).toBe(false);
    expect(JSON.stringify(rig.logs).includes(CARD.hesCode)).toBe(false);
  });
});
