import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { maskCardNo, maskHes, maskTc } from '@boarding/contracts/mask';
import { parse } from 'csv-parse';
import { DAY_FILE_COLUMNS } from './day-file-format';

export type DayFileColumn = (typeof DAY_FILE_COLUMNS)[number];

/** One row as the Ministry reads it, TC, HES and card number masked (never shown in clear). */
export type MaskedDayFileRow = Record<DayFileColumn, string>;

export type ChangedDayFileRow = {
  dogrulayici_no: string;
  islem_no: string;
  /** The columns whose value differs (a TC or HES change shows here even when both masks match). */
  columns: DayFileColumn[];
  before: MaskedDayFileRow;
  after: MaskedDayFileRow;
};

/** Rows keyed by (dogrulayici_no, islem_no), the tap's identity (SPEC §2). */
export type DayFileDiff = {
  before: { file: string; rows: number };
  after: { file: string; rows: number };
  added: number;
  removed: number;
  changed: number;
  unchanged: number;
  /** Up to `samples` rows of each kind, in file order. */
  samples: { added: MaskedDayFileRow[]; removed: MaskedDayFileRow[]; changed: ChangedDayFileRow[] };
};

export type DiffProgress = { phase: 'before' | 'after' | 'samples'; rows: number };

/** A file is not a day file (SPEC §4) or cannot be read. Names the file and line, never a value. */
export class DayFileFormatError extends Error {
  readonly code = 'DAY_FILE_INVALID';
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'DayFileFormatError';
  }
}

const KEY_SEPARATOR = '\u0000';
const VALIDATOR = DAY_FILE_COLUMNS.indexOf('dogrulayici_no');
const SEQ = DAY_FILE_COLUMNS.indexOf('islem_no');
const PROGRESS_EVERY = 50_000;

/**
 * Compare two day files (`.csv` or `.csv.gz`) row by row, as the receiver sees them: by parsed
 * values, so quoting or compression never counts as a difference. Streams both files; holds
 * only `before`'s key → row hash map (about 1 M rows for a day), then reads `before` once more
 * for the removed and changed samples. Personal data is masked before it leaves this function.
 */
export async function diffDayFiles(
  beforePath: string,
  afterPath: string,
  options: { samples?: number; onProgress?: (p: DiffProgress) => void } = {},
): Promise<DayFileDiff> {
  const limit = options.samples ?? 10;
  const report = (phase: DiffProgress['phase'], rows: number, force = false) => {
    if (force || rows % PROGRESS_EVERY === 0) options.onProgress?.({ phase, rows });
  };

  const hashes = new Map<string, string>();
  let beforeRows = 0;
  for await (const record of readDayFile(beforePath)) {
    hashes.set(keyOf(record), hashOf(record));
    report('before', ++beforeRows);
  }
  report('before', beforeRows, true);

  let afterRows = 0;
  let added = 0;
  let changed = 0;
  let unchanged = 0;
  const addedSamples: MaskedDayFileRow[] = [];
  // Raw rows held only for the few changed samples, until their `before` row is found.
  const changedAfter = new Map<string, { record: string[]; index: number }>();
  for await (const record of readDayFile(afterPath)) {
    report('after', ++afterRows);
    const key = keyOf(record);
    const known = hashes.get(key);
    if (known === undefined) {
      added++;
      if (addedSamples.length < limit) addedSamples.push(masked(record));
      continue;
    }
    hashes.delete(key);
    if (known === hashOf(record)) {
      unchanged++;
      continue;
    }
    changed++;
    if (changedAfter.size < limit) changedAfter.set(key, { record, index: changedAfter.size });
  }
  report('after', afterRows, true);

  // What is left of `before`'s map was not in `after`.
  const removed = hashes.size;
  const removedSamples: MaskedDayFileRow[] = [];
  const changedSamples: (ChangedDayFileRow & { index: number })[] = [];
  const removedWanted = Math.min(limit, removed);
  if (removedWanted > 0 || changedAfter.size > 0) {
    let rows = 0;
    for await (const record of readDayFile(beforePath)) {
      report('samples', ++rows);
      const key = keyOf(record);
      if (removedSamples.length < removedWanted && hashes.has(key)) removedSamples.push(masked(record));
      const after = changedAfter.get(key);
      if (after) {
        changedAfter.delete(key);
        changedSamples.push({
          dogrulayici_no: after.record[VALIDATOR] ?? '',
          islem_no: after.record[SEQ] ?? '',
          columns: DAY_FILE_COLUMNS.filter((_c, i) => record[i] !== after.record[i]),
          before: masked(record),
          after: masked(after.record),
          index: after.index,
        });
      }
      if (removedSamples.length >= removedWanted && changedAfter.size === 0) break;
    }
  }

  return {
    before: { file: basename(beforePath), rows: beforeRows },
    after: { file: basename(afterPath), rows: afterRows },
    added,
    removed,
    changed,
    unchanged,
    samples: {
      added: addedSamples,
      removed: removedSamples,
      // In `after`'s order, the order they were chosen in.
      changed: changedSamples.sort((a, b) => a.index - b.index).map(({ index: _index, ...c }) => c),
    },
  };
}

function keyOf(record: string[]): string {
  return `${record[VALIDATOR] ?? ''}${KEY_SEPARATOR}${record[SEQ] ?? ''}`;
}

/** 128 bits of SHA-256 over the values: a change detector, small enough to hold a day's rows. */
function hashOf(record: string[]): string {
  return createHash('sha256').update(record.join(KEY_SEPARATOR)).digest().toString('base64', 0, 16);
}

function masked(record: string[]): MaskedDayFileRow {
  const row = Object.fromEntries(DAY_FILE_COLUMNS.map((c, i) => [c, record[i] ?? ''])) as MaskedDayFileRow;
  row.tc_kimlik_no = maskTc(row.tc_kimlik_no);
  row.hes_kodu = maskHes(row.hes_kodu);
  // With the boarding history a card number identifies a traveller: masked like TC and HES.
  row.kart_no = maskCardNo(row.kart_no);
  return row;
}

/**
 * The data rows of a day file, after checking its header; gunzipped when the name ends in
 * `.gz`. Errors name the file and line, never a value (csv-parse may quote field content).
 */
async function* readDayFile(path: string): AsyncGenerator<string[]> {
  const name = basename(path);
  // No `info`: it triples the parse time; a parse error carries its line anyway.
  const parser = parse({ bom: true });
  const source = createReadStream(path, { highWaterMark: 1 << 20 });
  // pipeline destroys every stage on the first error, so the loop below sees it from the parser.
  const stream: Readable = path.endsWith('.gz')
    ? pipeline(source, createGunzip(), parser, () => undefined)
    : pipeline(source, parser, () => undefined);
  let header = true;
  try {
    for await (const record of stream as AsyncIterable<string[]>) {
      if (header) {
        header = false;
        if (record.join(',') !== DAY_FILE_COLUMNS.join(',')) {
          throw new DayFileFormatError(`${name}: line 1: not a day file header (SPEC §4 columns expected)`);
        }
        continue;
      }
      yield record;
    }
  } catch (err) {
    if (err instanceof DayFileFormatError) throw err;
    const e = err as { code?: string; lines?: number };
    if (typeof e.code === 'string' && e.code.startsWith('CSV_')) {
      throw new DayFileFormatError(`${name}: line ${e.lines ?? '?'}: not valid CSV (${e.code})`);
    }
    throw new DayFileFormatError(`${name}: cannot be read (${e.code ?? 'read error'})`);
  } finally {
    stream.destroy();
  }
  if (header) throw new DayFileFormatError(`${name}: empty: no header line`);
}
