import { decryptField } from '@boarding/encryption/field-cipher';
import { planDay, type SimMessage } from '@boarding/simulator/day';
import { createKeyringForTests } from '@boarding/testing/keyring';
import { boardingCopyLine, ingestView, sealedRegistryChunks } from './load-simulated-day';

const tap = (seq: number, cardNo: string, tappedAt: string, timestamp = '1605859200000'): SimMessage => ({
  key: 'BUS-30412-1',
  timestamp,
  value: JSON.stringify({
    schema: 'tap.v1',
    validatorId: 'BUS-30412-1',
    seq,
    cardNo,
    tappedAt,
    mode: 'BUS',
    lineCode: '202',
    vehicleId: '35-ESH-3041',
    stopCode: null,
    result: 'ACCEPTED',
    rejectReason: null,
  }),
});

describe('what the ingest would store', () => {
  it('keeps exactly the taps the simulator says are stored, of day D only', () => {
    const plan = planDay({ day: '2020-11-20', taps: 3000, seed: 7 });
    const view = ingestView(plan.messages());
    const taps = [...view.taps];
    expect(taps).toHaveLength(plan.truth.expected.stored);
    expect(new Set(taps.map((t) => t.serviceDay))).toEqual(new Set(['2020-11-20']));
    expect(view.heartbeats().length).toBeGreaterThan(0);
  });

  it('keeps the first arrival of a (validator, seq): whether a duplicate or a reset counter’s conflict', () => {
    // 2020-11-20T08:00:00Z as the Kafka timestamp; every tap is within the clock rules.
    const view = ingestView([
      tap(5, '0412345678901234', '2020-11-20T10:15:42.120+03:00'),
      tap(5, '0412345678901234', '2020-11-20T10:15:42.120+03:00'),
      tap(5, '04AAAAAAAAAAAAAA', '2020-11-20T10:16:00.000+03:00'),
      tap(6, '0412345678901234', '2020-11-20T10:20:00.000+03:00'),
    ]);
    const taps = [...view.taps];
    expect(taps.map((t) => [t.seq, t.cardNo, t.offset])).toEqual([
      [5, '0412345678901234', 0],
      [6, '0412345678901234', 3],
    ]);
  });

  it('drops a tap the clock rules dead-letter (more than 10 minutes after its message)', () => {
    const view = ingestView([tap(1, '0412345678901234', '2020-11-20T11:11:00.000+03:00')]);
    expect([...view.taps]).toEqual([]);
  });

  it('writes a boardings COPY line with nulls as \\N and instants in UTC', () => {
    const [t] = [...ingestView([tap(5, '0412345678901234', '2020-11-20T10:15:42.120+03:00')]).taps];
    if (!t) throw new Error('no tap');
    expect(boardingCopyLine(t)).toBe(
      '2020-11-20\tBUS-30412-1\t5\t0412345678901234\t2020-11-20T07:15:42.120Z\tBUS\t202\t35-ESH-3041\t\\N\tACCEPTED\t\\N\t\\N\t0\t0\t2020-11-20T08:00:00.000Z\n',
    );
  });
});

describe('sealed registry rows', () => {
  it('are staging COPY lines whose TC and HES open with the keyring under the registry’s contexts', async () => {
    const keyring = createKeyringForTests();
    const row = {
      cardNo: '0412345678901234',
      tcKimlikNo: '17291716060',
      hesCode: 'AB12CD34EF',
      cardKind: 'PERSONAL' as const,
      validFrom: Date.parse('2020-11-01T09:00:00+03:00'),
      validTo: null,
    };
    let text = '';
    for await (const chunk of sealedRegistryChunks(keyring, [row])) text += chunk;
    const fields = text.trimEnd().split('\t');
    expect(fields).toHaveLength(9);
    const [line, cardNo, kind, , tcEnc, , hesEnc, validFrom, validTo] = fields;
    expect([line, cardNo, kind, validFrom, validTo]).toEqual([
      '2',
      '0412345678901234',
      'PERSONAL',
      '2020-11-01T06:00:00.000Z',
      '\\N',
    ]);
    const bytes = (hex = '') => Buffer.from(hex.replace(/^\\\\x/, ''), 'hex');
    expect(decryptField(keyring, bytes(tcEnc), 'tc')).toBe('17291716060');
    expect(decryptField(keyring, bytes(hesEnc), 'hes')).toBe('AB12CD34EF');
  });

  it('refuses a row the import would reject instead of loading it', async () => {
    const keyring = createKeyringForTests();
    const bad = {
      cardNo: '0412345678901234',
      tcKimlikNo: '17291716050',
      hesCode: 'AB12CD34EF',
      cardKind: 'PERSONAL' as const,
      validFrom: 0,
      validTo: null,
    };
    await expect(async () => {
      for await (const _ of sealedRegistryChunks(keyring, [bad])) {
        // drained
      }
    }).rejects.toThrow(/row 2 is invalid/);
  });
});
