import { stringify } from 'csv-stringify/sync';
import {
  DAY_FILE_CSV_OPTIONS,
  type DayFileRow,
  dayFileName,
  istanbulSeconds,
  toDayFileRecord,
} from './day-file-format';

const row: DayFileRow = {
  tcKimlikNo: '10000000146',
  hesCode: 'ABCD1234X9',
  cardNo: '0412345678901234',
  cardKind: 'PERSONAL',
  tappedAtMs: Date.parse('2020-11-20T08:15:42.120+03:00'),
  mode: 'BUS',
  lineCode: '202',
  vehicleId: '35-ESH-3041',
  stopCode: '10345',
  validatorId: 'BUS-30412-1',
  seq: 184467,
  result: 'ACCEPTED',
  rejectReason: null,
};

describe('day file format (SPEC §4)', () => {
  it('writes Istanbul time cut to the second, never rounded into the next day', () => {
    expect(istanbulSeconds(Date.parse('2020-11-20T23:59:59.999+03:00'))).toBe('2020-11-20T23:59:59+03:00');
    expect(istanbulSeconds(Date.parse('2020-11-19T21:00:00.000Z'))).toBe('2020-11-20T00:00:00+03:00');
  });

  it('produces the exact bytes: header, CRLF, codes, empty cells, quotes only where needed', () => {
    const text = stringify(
      [
        toDayFileRecord(row),
        toDayFileRecord({
          ...row,
          cardKind: 'ANONYMOUS',
          mode: 'FERRY',
          lineCode: 'K,1 "hızlı"',
          vehicleId: null,
          stopCode: 'KSK',
          seq: 7,
          result: 'REJECTED',
          rejectReason: 'HES_RISKY',
          tappedAtMs: Date.parse('2020-11-20T23:59:59.999+03:00'),
        }),
      ],
      DAY_FILE_CSV_OPTIONS,
    );
    expect(text).toBe(
      'tc_kimlik_no,hes_kodu,kart_no,kart_turu,binis_zamani,ulasim_turu,hat_kodu,arac_no,durak_kodu,dogrulayici_no,islem_no,sonuc,red_nedeni\r\n' +
        '10000000146,ABCD1234X9,0412345678901234,KISISEL,2020-11-20T08:15:42+03:00,OTOBUS,202,35-ESH-3041,10345,BUS-30412-1,184467,KABUL,\r\n' +
        '10000000146,ABCD1234X9,0412345678901234,HAMILINE,2020-11-20T23:59:59+03:00,VAPUR,"K,1 ""hızlı""",,KSK,BUS-30412-1,7,RED,HES_RISKY\r\n',
    );
  });

  it('names the file BINIS_<OPERATOR>_<YYYYMMDD>_v<N>.csv', () => {
    expect(dayFileName('ESHOT', '2020-11-20', 1)).toBe('BINIS_ESHOT_20201120_v1.csv');
    expect(dayFileName('ESHOT', '2020-11-20', 2, true)).toBe('BINIS_ESHOT_20201120_v2.csv.gz');
  });

  it('refuses a value it has no code for instead of writing it', () => {
    expect(() => toDayFileRecord({ ...row, mode: 'CABLE_CAR' })).toThrow(/no day-file code for mode/);
  });
});
