import { IMPORT_HEADER, parseImportRow } from '@boarding/contracts/match';
import { formatStagedMatch } from '@boarding/db/bulk/match-import';
import type { Keyring } from '@boarding/encryption/keyring';
import { sealHes, sealTc } from '../pii';
import type { Reject } from './reject-log';

export type RawBatch = { records: string[][]; lines: number[] };
export type SealedBatch = { copy: string; rejects: Reject[] };

/**
 * Validate and seal one batch of CSV records into COPY text for the staging table. Pure CPU
 * work (zod + AES-GCM + HMAC), run in worker threads for big files.
 */
export function sealBatch(keyring: Keyring, batch: RawBatch): SealedBatch {
  let copy = '';
  const rejects: Reject[] = [];
  for (let i = 0; i < batch.records.length; i++) {
    const record = batch.records[i] ?? [];
    const line = batch.lines[i] ?? 0;
    if (record.length !== IMPORT_HEADER.length) {
      rejects.push({
        line,
        reason: 'COLUMN_COUNT',
        detail: `expected ${IMPORT_HEADER.length} columns, found ${record.length}`,
      });
      continue;
    }
    const parsed = parseImportRow(Object.fromEntries(IMPORT_HEADER.map((h, j) => [h, record[j] ?? ''])));
    if (!parsed.ok) {
      rejects.push({ line, reason: parsed.reason, detail: parsed.detail });
      continue;
    }
    const m = parsed.row;
    const tc = sealTc(keyring, m.tcKimlikNo);
    const hes = sealHes(keyring, m.hesCode);
    copy += formatStagedMatch({
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
  }
  return { copy, rejects };
}
