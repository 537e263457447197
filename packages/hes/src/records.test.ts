import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hesRecordsFromRegistryCsv, loadHesRecords, standInStatusFor } from './records';

const dir = mkdtempSync(join(tmpdir(), 'hes-records-'));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('HES stand-in records', () => {
  it('loads a JSON array of records, normalising the HES code', () => {
    const path = file(
      'records.json',
      JSON.stringify([{ hesCode: 'abcd-1234-x9', tcKimlikNo: '17291716060', status: 'RISKY' }]),
    );
    expect(loadHesRecords(path)).toEqual([
      { hesCode: 'ABCD1234X9', tcKimlikNo: '17291716060', status: 'RISKY' },
    ]);
  });

  it('loads a CSV of hes_code,tc_kimlik_no,status with CRLF line ends', () => {
    const path = file('records.csv', 'hes_code,tc_kimlik_no,status\r\nABCD1234X9,17291716060,RISKLESS\r\n');
    expect(loadHesRecords(path)).toEqual([
      { hesCode: 'ABCD1234X9', tcKimlikNo: '17291716060', status: 'RISKLESS' },
    ]);
  });

  it('refuses a file with an invalid record, naming the line but not the values', () => {
    const path = file('bad.csv', 'hes_code,tc_kimlik_no,status\nABCD1234X9,17291716061,RISKLESS\n');
    expect(() => loadHesRecords(path)).toThrow(/line 2/);
    expect(() => loadHesRecords(path)).not.toThrow(/17291716061/);
  });

  it('reads the registry CSV of SPEC §3, one record per HES code, with a deterministic status', () => {
    const path = file(
      'registry.csv',
      [
        'card_no,tc_kimlik_no,hes_code,card_kind,valid_from,valid_to',
        '0412345678901234,17291716060,ABCD1234X9,PERSONAL,2020-11-01T00:00:00+03:00,2020-11-10T00:00:00+03:00',
        '0412345678909999,17291716060,ABCD1234X9,PERSONAL,2020-11-10T00:00:00+03:00,',
        '0412345678905555,10000000146,EFGH-5678-Y1,ANONYMOUS,2020-11-01T00:00:00+03:00,',
        '',
      ].join('\n'),
    );
    const records = hesRecordsFromRegistryCsv(path);
    expect(loadHesRecords(path)).toEqual(records);
    expect(records).toEqual([
      { hesCode: 'ABCD1234X9', tcKimlikNo: '17291716060', status: standInStatusFor('ABCD1234X9') },
      { hesCode: 'EFGH5678Y1', tcKimlikNo: '10000000146', status: standInStatusFor('EFGH5678Y1') },
    ]);
  });

  it('marks about one code in ten RISKY, the same way every time', () => {
    const codes = Array.from({ length: 1_000 }, (_, i) => `CODE${String(i).padStart(6, '0')}`);
    const risky = codes.filter((c) => standInStatusFor(c) === 'RISKY').length;
    expect(risky).toBeGreaterThan(60);
    expect(risky).toBeLessThan(140);
    expect(codes.map(standInStatusFor)).toEqual(codes.map(standInStatusFor));
  });
});
