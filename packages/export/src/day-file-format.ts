import { ISTANBUL_OFFSET_MS } from '@boarding/contracts/time';

/**
 * The daily boarding file's row format (SPEC §4), pure: column order, Turkish codes, and the
 * Europe/Istanbul boarding time cut (never rounded) to whole seconds.
 */

export const DAY_FILE_COLUMNS = [
  'tc_kimlik_no',
  'hes_kodu',
  'kart_no',
  'kart_turu',
  'binis_zamani',
  'ulasim_turu',
  'hat_kodu',
  'arac_no',
  'durak_kodu',
  'dogrulayici_no',
  'islem_no',
  'sonuc',
  'red_nedeni',
] as const;

/** SPEC §4's codes of the stored values; day-file-rows.ts writes the same from these. */
export const MODE_CODES: Record<string, string> = {
  BUS: 'OTOBUS',
  METRO: 'METRO',
  FERRY: 'VAPUR',
  TRAM: 'TRAMVAY',
  SUBURBAN_RAIL: 'BANLIYO',
};
export const KIND_CODES: Record<string, string> = { PERSONAL: 'KISISEL', ANONYMOUS: 'HAMILINE' };
export const RESULT_CODES: Record<string, string> = { ACCEPTED: 'KABUL', REJECTED: 'RED' };

/** A boarding joined with its match, TC and HES already decrypted (export path only). */
export type DayFileRow = {
  tcKimlikNo: string;
  hesCode: string;
  cardNo: string;
  cardKind: string;
  tappedAtMs: number;
  mode: string;
  lineCode: string;
  vehicleId: string | null;
  stopCode: string | null;
  validatorId: string;
  seq: number;
  result: string;
  rejectReason: string | null;
};

/** `YYYY-MM-DDTHH:mm:ss+03:00`: the instant in Istanbul time, cut to the second (23:59:59.999 stays 23:59:59). */
export function istanbulSeconds(ms: number): string {
  const cut = Math.floor(ms / 1000) * 1000;
  return `${new Date(cut + ISTANBUL_OFFSET_MS).toISOString().slice(0, 19)}+03:00`;
}

function code(map: Record<string, string>, value: string, what: string): string {
  const mapped = map[value];
  if (mapped === undefined) throw new Error(`no day-file code for ${what} ${JSON.stringify(value)}`);
  return mapped;
}

/** The 13 cells of one row, in column order. */
export function toDayFileRecord(r: DayFileRow): string[] {
  return [
    r.tcKimlikNo,
    r.hesCode,
    r.cardNo,
    code(KIND_CODES, r.cardKind, 'card kind'),
    istanbulSeconds(r.tappedAtMs),
    code(MODE_CODES, r.mode, 'mode'),
    r.lineCode,
    r.vehicleId ?? '',
    r.stopCode ?? '',
    r.validatorId,
    String(r.seq),
    code(RESULT_CODES, r.result, 'result'),
    r.rejectReason ?? '',
  ];
}

/** `BINIS_<OPERATOR>_<YYYYMMDD>_v<N>.csv` (or `.csv.gz`). */
export function dayFileName(operator: string, day: string, version: number, gzip = false): string {
  return `BINIS_${operator}_${day.replaceAll('-', '')}_v${version}.csv${gzip ? '.gz' : ''}`;
}

/** csv-stringify options for RFC 4180 with CRLF, quotes only where needed, one header row. */
export const DAY_FILE_CSV_OPTIONS = {
  header: true,
  columns: [...DAY_FILE_COLUMNS],
  delimiter: ',',
  record_delimiter: '\r\n',
  quote: '"',
  escape: '"',
  // A bare CR or LF inside a value must be quoted too (RFC 4180), not only the delimiter.
  quoted_match: /[\r\n]/,
} as const;

/** `BINIS_<OPERATOR>_<YYYYMMDD>_v<N>.manifest.json`, beside the file (`.csv` or `.csv.gz`). */
export function manifestFileName(fileName: string): string {
  return fileName.replace(/\.csv(\.gz)?$/, '.manifest.json');
}
