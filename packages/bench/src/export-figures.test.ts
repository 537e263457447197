import {
  type CurvePoint,
  type ExportChildResult,
  exportFigures,
  parseExportChildResult,
} from './export-figures';
import type { Rate } from './harness';
import { withDayLiteral } from './measure-copy-out';

const large: ExportChildResult = {
  outcome: 'DELIVERED',
  rows: 1_000_000,
  bytes: 150_000_000,
  buildSeconds: 8,
  deliverSeconds: 2,
  totalSeconds: 10.5,
  maxRssKiB: 200 * 1024,
  buildMaxRssKiB: 190 * 1024,
  peakHeapMiB: 60,
  peakExternalMiB: 20,
};
const small: ExportChildResult = { ...large, rows: 10_000, bytes: 1_500_000, maxRssKiB: 180 * 1024 };
const curve: CurvePoint[] = [
  { label: '10k', result: small },
  { label: '2m', result: { ...large, rows: 2_000_000, totalSeconds: 21, maxRssKiB: 210 * 1024 } },
];
const copyOut: Rate = { value: 250_000, unit: 'rows/s', amount: 1_000_000, seconds: 4 };
const upload: Rate = { value: 300, unit: 'MB/s', amount: 150_000_000, seconds: 0.5 };

const byName = (figures: ReturnType<typeof exportFigures>) => new Map(figures.map((f) => [f.figure, f]));

describe('export figures', () => {
  it('bounds build and deliver by the slower stage in rows/s: COPY here, 250,000 against 2,000,000', () => {
    const f = byName(exportFigures({ large, curve, copyOut, upload }));
    expect(f.get('build-and-deliver')).toEqual({
      figure: 'build-and-deliver',
      value: 1_000_000 / 10.5,
      unit: 'rows/s',
      bound: 250_000,
    });
    expect(f.get('build-and-deliver-time')).toEqual({
      figure: 'build-and-deliver-time',
      value: 10.5,
      unit: 's',
    });
  });

  it('takes the upload as the bound when it is the slower stage, converted to rows/s', () => {
    const slowUpload: Rate = { value: 15, unit: 'MB/s', amount: 150_000_000, seconds: 10 };
    const f = byName(exportFigures({ large, curve, copyOut, upload: slowUpload }));
    expect(f.get('build-and-deliver')?.bound).toBe(100_000);
  });

  it('bounds each stage by its own limit: build by COPY rows/s, deliver by the raw upload MB/s', () => {
    const f = byName(exportFigures({ large, curve, copyOut, upload }));
    expect(f.get('build')).toMatchObject({ value: 125_000, unit: 'rows/s', bound: 250_000 });
    expect(f.get('deliver')).toMatchObject({ value: 75, unit: 'MB/s', bound: 300 });
    expect(f.get('build-time')?.value).toBe(8);
    expect(f.get('deliver-time')?.value).toBe(2);
  });

  it('bounds the peak RSS by the small day’s, so that a ratio of 1 reads "flat"', () => {
    const f = byName(exportFigures({ large, curve, copyOut, upload }));
    expect(f.get('peak-rss')).toEqual({ figure: 'peak-rss', value: 200, unit: 'MiB', bound: 180 });
  });

  it('reports rows, time and peak RSS of each point of the memory curve, smallest first', () => {
    const figures = exportFigures({ large, curve, copyOut, upload }).filter((f) =>
      f.figure.startsWith('curve-'),
    );
    expect(figures).toEqual([
      { figure: 'curve-10k-rows', value: 10_000, unit: 'rows' },
      { figure: 'curve-10k-time', value: 10.5, unit: 's' },
      { figure: 'curve-10k-peak-rss', value: 180, unit: 'MiB' },
      { figure: 'curve-2m-rows', value: 2_000_000, unit: 'rows' },
      { figure: 'curve-2m-time', value: 21, unit: 's' },
      { figure: 'curve-2m-peak-rss', value: 210, unit: 'MiB' },
    ]);
    expect(() => exportFigures({ large, curve: [], copyOut, upload })).toThrow(/no point/);
  });

  it('refuses bounds that measured other work than the export did', () => {
    expect(() => exportFigures({ large, curve, copyOut, upload: { ...upload, amount: 1 } })).toThrow(
      /upload bound moved 1 bytes/,
    );
    expect(() => exportFigures({ large, curve, copyOut: { ...copyOut, amount: 999_999 }, upload })).toThrow(
      /999999 rows/,
    );
  });
});

describe('the export child’s result', () => {
  it('is read from the last line of its stdout', () => {
    expect(parseExportChildResult(`warming up\n${JSON.stringify(large)}\n`)).toEqual(large);
  });

  it('is refused when a figure is missing or not a number', () => {
    const { rows: _rows, ...noRows } = large;
    expect(() => parseExportChildResult(JSON.stringify(noRows))).toThrow(/rows is undefined/);
    expect(() => parseExportChildResult(JSON.stringify({ ...large, totalSeconds: 'fast' }))).toThrow(
      /totalSeconds/,
    );
    expect(() => parseExportChildResult('')).toThrow(/no JSON result/);
  });
});

describe('the day query for COPY', () => {
  it('gets the day as a literal in place of $1', () => {
    expect(withDayLiteral('select 1 where d = $1::date or e = $1', '2020-11-20')).toBe(
      "select 1 where d = '2020-11-20'::date or e = '2020-11-20'",
    );
  });

  it('refuses anything but a date, and a query with other parameters', () => {
    expect(() => withDayLiteral('select $1', "2020-11-20'; drop table x; --")).toThrow(RangeError);
    expect(() => withDayLiteral('select $1, $2', '2020-11-20')).toThrow(/exactly one parameter/);
    expect(() => withDayLiteral('select $10', '2020-11-20')).toThrow(/exactly one parameter/);
    expect(() => withDayLiteral('select 1', '2020-11-20')).toThrow(/exactly one parameter/);
  });
});
