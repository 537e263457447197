import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { IMPORT_HEADER, parseImportRow } from '@boarding/contracts/match';
import type { StagedMatch } from '@boarding/db/bulk/match-import';
import type { Keyring } from '@boarding/encryption/keyring';
import { parse } from 'csv-parse';
import { sealHes, sealTc } from '../pii';
import type { RejectLog } from './reject-log';

export type ReadProgress = { bytesRead: number; totalBytes: number; rows: number };

/** The CSV could not be read as CSV at all (bad header, broken quoting): nothing is applied. */
export class ImportFileError extends Error {
  readonly code = 'IMPORT_FILE_INVALID';
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'ImportFileError';
  }
}

export type ImportFileReader = {
  batches: AsyncIterable<StagedMatch[]>;
  /** Valid after the batches are consumed. */
  summary: () => { rows: number; sha256: string; bytes: number };
};

/**
 * Stream the import file (never whole in memory): parse CSV (LF or CRLF, optional BOM), check
 * the header, validate each row (SPEC §3), seal TC/HES, and yield staged rows in batches.
 * Invalid rows go to `rejects` with their line number (header = line 1).
 */
export function readImportFile(
  path: string,
  keyring: Keyring,
  rejects: RejectLog,
  onProgress: (p: ReadProgress) => void = () => undefined,
  batchSize = 2000,
): ImportFileReader {
  const totalBytes = statSync(path).size;
  const hash = createHash('sha256');
  const source = createReadStream(path, { highWaterMark: 1 << 20 });
  let rows = 0;
  let sha256 = '';

  async function* batches(): AsyncGenerator<StagedMatch[]> {
    // Attached here, not at creation: a 'data' listener starts the flow, and nothing may be read
    // before the parser is piped in.
    source.on('data', (chunk) => hash.update(chunk));
    const parser = source.pipe(
      parse({ bom: true, info: true, relax_column_count: true, skip_empty_lines: true }),
    );
    let batch: StagedMatch[] = [];
    let header = true;
    try {
      for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
        const { record, info } = item;
        const line = info.lines;
        if (header) {
          header = false;
          const got = record.map((c) => c.trim().toLowerCase());
          if (got.join(',') !== IMPORT_HEADER.join(',')) {
            throw new ImportFileError(`line 1: header must be ${IMPORT_HEADER.join(',')}`);
          }
          continue;
        }
        rows++;
        if (record.length !== IMPORT_HEADER.length) {
          rejects.add({
            line,
            reason: 'COLUMN_COUNT',
            detail: `expected ${IMPORT_HEADER.length} columns, found ${record.length}`,
          });
          continue;
        }
        const parsed = parseImportRow(Object.fromEntries(IMPORT_HEADER.map((h, i) => [h, record[i] ?? ''])));
        if (!parsed.ok) {
          rejects.add({ line, reason: parsed.reason, detail: parsed.detail });
          continue;
        }
        const m = parsed.row;
        const tc = sealTc(keyring, m.tcKimlikNo);
        const hes = sealHes(keyring, m.hesCode);
        batch.push({
          line,
          cardNo: m.cardNo,
          cardKind: m.cardKind,
          tcIndex: tc.index,
          tcEnc: tc.enc,
          hesIndex: hes.index,
          hesEnc: hes.enc,
          validFrom: m.validFrom,
          validTo: m.validTo,
        });
        if (batch.length >= batchSize) {
          yield batch;
          batch = [];
          onProgress({ bytesRead: source.bytesRead, totalBytes, rows });
        }
      }
    } catch (err) {
      if (err instanceof ImportFileError) throw err;
      // csv-parse's messages may quote field content: keep its code and line only.
      const e = err as { code?: string; lines?: number };
      throw new ImportFileError(`line ${e.lines ?? '?'}: not valid CSV (${e.code ?? 'parse error'})`);
    }
    if (header) throw new ImportFileError('the file is empty: no header line');
    if (batch.length > 0) yield batch;
    sha256 = hash.digest('hex');
    onProgress({ bytesRead: totalBytes, totalBytes, rows });
  }

  return { batches: batches(), summary: () => ({ rows, sha256, bytes: totalBytes }) };
}
