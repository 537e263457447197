import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DayFileFormatError, diffDayFiles } from './day-diff';

const HEADER =
  'tc_kimlik_no,hes_kodu,kart_no,kart_turu,binis_zamani,ulasim_turu,hat_kodu,arac_no,durak_kodu,dogrulayici_no,islem_no,sonuc,red_nedeni';
const A =
  '10000000146,ABCD1234X9,0400000000000A01,KISISEL,2020-11-20T08:00:00+03:00,OTOBUS,202,35-ESH-3041,,BUS-1-1,1,KABUL,';
const B =
  '17291716060,ZZZZ9999Q1,0400000000000B02,HAMILINE,2020-11-20T08:05:00+03:00,OTOBUS,202,35-ESH-3041,,BUS-1-1,2,KABUL,';
// B after a registry correction: another HES code ending in the same two characters.
const B2 =
  '17291716060,QQQQ1111Q1,0400000000000B02,HAMILINE,2020-11-20T08:05:00+03:00,OTOBUS,202,35-ESH-3041,,BUS-1-1,2,KABUL,';
const C =
  '10000000146,ABCD1234X9,0400000000000A01,KISISEL,2020-11-20T09:00:00+03:00,METRO,M1,,10345,MET-1-1,7,RED,HES_RISKY';
const D =
  '17291716060,ZZZZ9999Q1,0400000000000B02,HAMILINE,2020-11-20T10:00:00+03:00,VAPUR,F1,,KSK,FER-1-1,3,KABUL,';
const D2 =
  '17291716060,ZZZZ9999Q1,0400000000000B02,HAMILINE,2020-11-20T10:00:00+03:00,VAPUR,F1,,KSK,FER-1-1,3,RED,HES_RISKY';
const E =
  '10000000146,ABCD1234X9,0400000000000A01,KISISEL,2020-11-20T23:59:59+03:00,TRAMVAY,T1,,ALS,TRM-1-1,12,KABUL,';

const file = (...rows: string[]) => `${[HEADER, ...rows].join('\r\n')}\r\n`;

describe('diffDayFiles', () => {
  const dir = mkdtempSync(join(tmpdir(), 'day-diff-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, content: string | Buffer) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  it('counts added, removed and changed rows by (dogrulayici_no, islem_no), with masked samples', async () => {
    const before = write('before.csv', file(A, B, C, D));
    const after = write('after.csv', file(A, B2, D2, E));
    expect(await diffDayFiles(before, after)).toEqual({
      before: { file: 'before.csv', rows: 4 },
      after: { file: 'after.csv', rows: 4 },
      added: 1,
      removed: 1,
      changed: 2,
      unchanged: 1,
      samples: {
        added: [
          {
            tc_kimlik_no: '*******0146',
            hes_kodu: '****-****-X9',
            kart_no: '************0A01',
            kart_turu: 'KISISEL',
            binis_zamani: '2020-11-20T23:59:59+03:00',
            ulasim_turu: 'TRAMVAY',
            hat_kodu: 'T1',
            arac_no: '',
            durak_kodu: 'ALS',
            dogrulayici_no: 'TRM-1-1',
            islem_no: '12',
            sonuc: 'KABUL',
            red_nedeni: '',
          },
        ],
        removed: [
          {
            tc_kimlik_no: '*******0146',
            hes_kodu: '****-****-X9',
            kart_no: '************0A01',
            kart_turu: 'KISISEL',
            binis_zamani: '2020-11-20T09:00:00+03:00',
            ulasim_turu: 'METRO',
            hat_kodu: 'M1',
            arac_no: '',
            durak_kodu: '10345',
            dogrulayici_no: 'MET-1-1',
            islem_no: '7',
            sonuc: 'RED',
            red_nedeni: 'HES_RISKY',
          },
        ],
        changed: [
          {
            dogrulayici_no: 'BUS-1-1',
            islem_no: '2',
            // Both masks read ****-****-Q1: the column list is what tells the change.
            columns: ['hes_kodu'],
            before: expect.objectContaining({ hes_kodu: '****-****-Q1', tc_kimlik_no: '*******6060' }),
            after: expect.objectContaining({ hes_kodu: '****-****-Q1', tc_kimlik_no: '*******6060' }),
          },
          {
            dogrulayici_no: 'FER-1-1',
            islem_no: '3',
            columns: ['sonuc', 'red_nedeni'],
            before: expect.objectContaining({ sonuc: 'KABUL', red_nedeni: '', kart_no: '************0B02' }),
            after: expect.objectContaining({ sonuc: 'RED', red_nedeni: 'HES_RISKY' }),
          },
        ],
      },
    });
  });

  it('never puts a TC, HES code or card number in clear into its result', async () => {
    const before = write('clear-before.csv', file(A, B, C, D));
    const after = write('clear-after.csv', file(A, B2, D2, E));
    const text = JSON.stringify(await diffDayFiles(before, after));
    for (const clear of [
      '10000000146',
      '17291716060',
      'ABCD1234X9',
      'ZZZZ9999Q1',
      'QQQQ1111Q1',
      '0400000000000A01',
    ]) {
      expect(text).not.toContain(clear);
    }
  });

  it('compares values, not bytes: a gzipped file with needless quotes and LF line ends equals the CSV', async () => {
    const before = write('plain.csv', file(A, B, C));
    const quoted = [HEADER, A.replace(',202,', ',"202",'), B, C].join('\n');
    const after = write('quoted.csv.gz', gzipSync(Buffer.from(`${quoted}\n`)));
    expect(await diffDayFiles(before, after)).toMatchObject({
      after: { file: 'quoted.csv.gz', rows: 3 },
      added: 0,
      removed: 0,
      changed: 0,
      unchanged: 3,
      samples: { added: [], removed: [], changed: [] },
    });
  });

  it('keeps at most N samples of each kind but counts them all', async () => {
    const before = write('many-before.csv', file(A, B, C));
    const after = write('many-after.csv', file(D, E));
    const diff = await diffDayFiles(before, after, { samples: 1 });
    expect(diff).toMatchObject({ added: 2, removed: 3, changed: 0, unchanged: 0 });
    expect(diff.samples.added.map((r) => r.dogrulayici_no)).toEqual(['FER-1-1']);
    expect(diff.samples.removed.map((r) => `${r.dogrulayici_no}#${r.islem_no}`)).toEqual(['BUS-1-1#1']);
  });

  it('refuses a file that is not a day file, naming the file and line but no value', async () => {
    const good = write('good.csv', file(A));
    const header = write('registry.csv', 'card_no,tc_kimlik_no,hes_code,card_kind,valid_from,valid_to\r\n');
    await expect(diffDayFiles(header, good)).rejects.toThrow(
      new DayFileFormatError('registry.csv: line 1: not a day file header (SPEC §4 columns expected)'),
    );
    const broken = write('broken.csv', file(A, '17291716060,"ZZZZ9999Q1,x'));
    const err = await diffDayFiles(good, broken).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DayFileFormatError);
    expect((err as Error).message).toMatch(/^broken\.csv: line \d+: not valid CSV \(CSV_/);
    expect((err as Error).message).not.toContain('17291716060');
    const short = write('short.csv', file(A, 'BUS-1-1,3'));
    await expect(diffDayFiles(good, short)).rejects.toThrow(/^short\.csv: line 3: not valid CSV/);
    await expect(diffDayFiles(good, join(dir, 'missing.csv'))).rejects.toThrow(
      'missing.csv: cannot be read (ENOENT)',
    );
  });
});
