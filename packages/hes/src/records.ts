import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { HesCode, HesStatus } from '@boarding/contracts/hes-code';
import { TcKimlikNo } from '@boarding/contracts/tc-kimlik';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';

/** One answer the stand-in gives: this HES code belongs to this TC and has this status. */
export const HesRecord = z.object({
  hesCode: HesCode,
  tcKimlikNo: TcKimlikNo,
  status: HesStatus,
});
export type HesRecord = z.infer<typeof HesRecord>;

/** The stand-in's data file is unusable; the message names lines and fields, never values. */
export class HesRecordsFileError extends Error {
  readonly code = 'HES_RECORDS_INVALID';
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'HesRecordsFileError';
  }
}

function parseRecord(value: unknown, where: string): HesRecord {
  const result = HesRecord.safeParse(value);
  if (result.success) return result.data;
  const fields = [...new Set(result.error.issues.map((i) => i.path.join('.') || '(record)'))].join(', ');
  throw new HesRecordsFileError(`${where}: invalid ${fields}`);
}

function readCsv(path: string): Record<string, string>[] {
  try {
    return parse(readFileSync(path), { columns: true, bom: true, skip_empty_lines: true, trim: true });
  } catch (err) {
    throw new HesRecordsFileError(
      `${path}: not readable as CSV (${(err as { code?: string }).code ?? 'error'})`,
    );
  }
}

/**
 * The stand-in's data file: a `.json` array of `{ hesCode, tcKimlikNo, status }`, a `.csv`
 * with header `hes_code,tc_kimlik_no,status`, or a registry CSV (`hesRecordsFromRegistryCsv`). Every record is checked (SPEC §3 formats); one bad
 * record refuses the whole file, so a test never runs against half its data.
 */
export function loadHesRecords(path: string): HesRecord[] {
  if (path.endsWith('.json')) {
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(path, 'utf8'));
    } catch {
      throw new HesRecordsFileError(`${path}: not readable as JSON`);
    }
    if (!Array.isArray(data)) throw new HesRecordsFileError(`${path}: must hold a JSON array of records`);
    return data.map((item, i) => parseRecord(item, `record ${i + 1}`));
  }
  const rows = readCsv(path);
  // The simulator's registry CSV can be served as it is.
  if (rows[0] && 'card_no' in rows[0]) return recordsFromRegistryRows(rows);
  // The header is line 1, so the first record is line 2 (blank lines are not expected here).
  return rows.map((row, i) =>
    parseRecord({ hesCode: row.hes_code, tcKimlikNo: row.tc_kimlik_no, status: row.status }, `line ${i + 2}`),
  );
}

/**
 * The status the stand-in gives a code it builds from the registry: RISKY when the first four
 * bytes of SHA-256(normalised code), read as an unsigned big-endian integer, are 0 mod 10 (about
 * one code in ten), else RISKLESS. Deterministic, so tests and the demo can predict it.
 */
export function standInStatusFor(hesCode: string): HesStatus {
  return createHash('sha256').update(hesCode).digest().readUInt32BE(0) % 10 === 0 ? 'RISKY' : 'RISKLESS';
}

/**
 * Records for the stand-in from a registry CSV of SPEC §3
 * (`card_no,tc_kimlik_no,hes_code,card_kind,valid_from,valid_to`): one per HES code, first
 * occurrence wins (a card's history repeats the code), status from `standInStatusFor`. Rows the
 * registry import would reject are refused here too, so both see the same data.
 */
export function hesRecordsFromRegistryCsv(path: string): HesRecord[] {
  return recordsFromRegistryRows(readCsv(path));
}

function recordsFromRegistryRows(rows: Record<string, string>[]): HesRecord[] {
  const byCode = new Map<string, HesRecord>();
  rows.forEach((row, i) => {
    const hes = HesCode.safeParse(row.hes_code);
    const status = hes.success ? standInStatusFor(hes.data) : 'RISKLESS';
    const record = parseRecord(
      { hesCode: row.hes_code, tcKimlikNo: row.tc_kimlik_no, status },
      `line ${i + 2}`,
    );
    if (!byCode.has(record.hesCode)) byCode.set(record.hesCode, record);
  });
  return [...byCode.values()];
}
