import { randomInt } from 'node:crypto';
import { FIELD_CONTEXT } from '@boarding/encryption/context';
import { encryptField } from '@boarding/encryption/field-cipher';
import { createKeyringForTests } from '@boarding/testing/keyring';
import { stringify } from 'csv-stringify/sync';
import { BatchCells, ClearCells } from './clear-cells';
import { CopyTupleBatcher } from './copy-tuples';
import { DAY_FILE_CSV_OPTIONS, type DayFileRow, toDayFileRecord } from './day-file-format';
import { DayRows, formatDayRows } from './day-file-rows';
import { openBlobs } from './decrypt-batch';

const keyring = createKeyringForTests();

type Row = DayFileRow & { matchId: number };

const int8 = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(n));
  return b;
};

/** One tuple of the day query as PostgreSQL's binary COPY writes it. */
function tuple(r: Row): Buffer {
  const text = (s: string | null) => (s === null ? null : Buffer.from(s, 'utf8'));
  const fields: (Buffer | null)[] = [
    int8(r.matchId),
    encryptField(keyring, r.tcKimlikNo, FIELD_CONTEXT.tc),
    encryptField(keyring, r.hesCode, FIELD_CONTEXT.hes),
    text(r.cardNo),
    text(r.cardKind),
    int8(r.tappedAtMs),
    text(r.mode),
    text(r.lineCode),
    text(r.vehicleId),
    text(r.stopCode),
    text(r.validatorId),
    int8(r.seq),
    text(r.result),
    text(r.rejectReason),
  ];
  const count = Buffer.alloc(2);
  count.writeInt16BE(fields.length);
  return Buffer.concat([
    count,
    ...fields.flatMap((f) => {
      const length = Buffer.alloc(4);
      length.writeInt32BE(f === null ? -1 : f.length);
      return f === null ? [length] : [length, f];
    }),
  ]);
}

/** A whole binary COPY stream of `rows`: signature, flags, empty extension, tuples, trailer. */
function copyStream(rows: Row[]): Buffer {
  const header = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
  return Buffer.concat([header, ...rows.map(tuple), Buffer.from([0xff, 0xff])]);
}

const base: Row = {
  matchId: 1,
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

// Values csv-stringify must quote, or must not: the writer has to agree on every one.
const awkward = [
  '',
  'a,b',
  'say "hi"',
  '"',
  'line\nbreak',
  'cr\ronly',
  'crlf\r\n',
  'hızlı çğüşö',
  '😀 ,"',
  ' x ',
  "'=1",
];
const pick = <T>(values: T[]): T => values[randomInt(values.length)] as T;

const TCS = ['10000000146', '17291716060', 'a,b', 'line\nfeed'];
const HESES = ['ABCD1234X9', 'ZZZZ9999Q1', 'q"uote', 'hızlı'];

function randomRow(i: number): Row {
  // A match id always names the same TC and HES, as in the registry: rows repeat matches within
  // a batch and across batches, as a day's do.
  const matchId = randomInt(1, 40);
  return {
    ...base,
    matchId,
    tcKimlikNo: TCS[matchId % TCS.length] ?? '',
    hesCode: HESES[Math.floor(matchId / TCS.length) % HESES.length] ?? '',
    cardKind: pick(['PERSONAL', 'ANONYMOUS']),
    tappedAtMs: Date.parse('2020-11-20T00:00:00+03:00') + i * 997,
    mode: pick(['BUS', 'METRO', 'FERRY', 'TRAM', 'SUBURBAN_RAIL']),
    lineCode: pick(awkward.filter((v) => v !== '')),
    vehicleId: pick([null, ...awkward]),
    stopCode: pick([null, ...awkward]),
    validatorId: pick(['BUS-1-1', 'M-KONAK-2', 'x,"y"']),
    seq: randomInt(0, 2 ** 40),
    result: pick(['ACCEPTED', 'REJECTED']),
    rejectReason: pick([null, 'HES_RISKY', 'OTHER', 'a\nb']),
  };
}

/** A batch formatted as the build does it: its sealed values opened as a worker opens them. */
function formatBatch(tuples: Buffer, clear = new ClearCells()) {
  const batch = new DayRows(tuples);
  const cells = new BatchCells(batch, clear);
  cells.fill(openBlobs(keyring, batch.sealed(cells.opening)), clear);
  return formatDayRows(batch, cells);
}

/** The rows through the batcher and the formatter, the stream cut into chunks as a socket would. */
function formatted(rows: Row[], batchBytes: number, chunkBytes: number): string {
  const stream = copyStream(rows);
  const batcher = new CopyTupleBatcher(batchBytes);
  const clear = new ClearCells();
  const out: Buffer[] = [];
  for (let at = 0; at < stream.length; at += chunkBytes) {
    for (const tuples of batcher.push(stream.subarray(at, at + chunkBytes))) {
      const result = formatBatch(tuples, clear);
      if ('unknownCode' in result) throw new Error(`unknown ${result.unknownCode.what}`);
      out.push(result.csv);
    }
  }
  batcher.end();
  return Buffer.concat(out).toString('utf8');
}

const expected = (rows: Row[]) =>
  stringify(rows.map(toDayFileRecord), { ...DAY_FILE_CSV_OPTIONS, header: false });

describe('the day file rows written by the export workers', () => {
  it('are byte for byte what toDayFileRecord and csv-stringify write, awkward values included', () => {
    const rows = Array.from({ length: 3000 }, (_, i) => randomRow(i));
    // Batches of one tuple up to many, the stream cut at odd places: the same bytes.
    for (const [batchBytes, chunkBytes] of [
      [1, 7],
      [4096, 1000],
      [1 << 20, 65536],
    ] as const) {
      expect(formatted(rows, batchBytes, chunkBytes)).toBe(expected(rows));
    }
  });

  it('cut the time to the second in Istanbul time, never rounding into the next day', () => {
    const row = { ...base, tappedAtMs: Date.parse('2020-11-20T23:59:59.999+03:00') };
    expect(formatted([row], 1, 3)).toContain(',2020-11-20T23:59:59+03:00,');
  });

  it('name a value that has no day-file code instead of writing it', () => {
    const batcher = new CopyTupleBatcher(1);
    const [tuples] = batcher.push(copyStream([{ ...base, mode: 'CABLE_CAR' }]));
    if (tuples === undefined) throw new Error('no batch');
    expect(formatBatch(tuples)).toEqual({
      unknownCode: { what: 'mode', value: 'CABLE_CAR' },
    });
  });

  it('refuse a stream that ends before its trailer', () => {
    const batcher = new CopyTupleBatcher(1 << 20);
    const stream = copyStream([base, base]);
    batcher.push(stream.subarray(0, stream.length - 2));
    expect(() => batcher.end()).toThrow(/without its trailer/);
  });
});
