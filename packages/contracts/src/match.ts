import { z } from 'zod';
import { CardKind, CardNo, normaliseCardKind } from './card-no';
import { HesCode } from './hes-code';
import { type Check, describeFirstIssue, reasonedString } from './issues';
import type { ReasonCode } from './reasons';
import { TcKimlikNo } from './tc-kimlik';
import { parseOffsetDateTime, TIME_REASON_MESSAGES } from './time';

/**
 * One binding of a card to a person and a HES code over `[validFrom, validTo)` (SPEC §3);
 * `validTo` null means open-ended. Values are in normalised form.
 */
export const Match = z
  .object({
    cardNo: CardNo,
    tcKimlikNo: TcKimlikNo,
    hesCode: HesCode,
    cardKind: CardKind,
    validFrom: z.date(),
    validTo: z.date().nullable(),
  })
  .superRefine((match, ctx) => {
    if (match.validTo !== null && match.validTo.getTime() <= match.validFrom.getTime()) {
      ctx.addIssue(rangeEmptyIssue('validTo must be after validFrom'));
    }
  });
export type Match = z.infer<typeof Match>;

export const IMPORT_HEADER = [
  'card_no',
  'tc_kimlik_no',
  'hes_code',
  'card_kind',
  'valid_from',
  'valid_to',
] as const;

const CardKindText = reasonedString((input) => {
  const result = normaliseCardKind(input);
  return result.ok ? result : { ok: false, reason: result.reason, message: 'must be PERSONAL or ANONYMOUS' };
});

// Cells are trimmed: import files come out of spreadsheets and are edited by hand.
function parseTimeCell(input: string): Check<Date | null> {
  const text = input.trim();
  if (text === '') return { ok: true, value: null };
  const result = parseOffsetDateTime(text);
  return result.ok
    ? { ok: true, value: new Date(result.ms) }
    : { ok: false, reason: result.reason, message: TIME_REASON_MESSAGES[result.reason] };
}

const RequiredTimeCell = reasonedString((input): Check<Date> => {
  const result = parseTimeCell(input);
  if (!result.ok) return result;
  return result.value === null
    ? { ok: false, reason: 'INVALID_FIELD', message: 'required' }
    : { ok: true, value: result.value };
});

const OptionalTimeCell = reasonedString(parseTimeCell);

/**
 * A row of the bulk-import CSV keyed by its header (SPEC §3), turned into a Match. Columns are
 * checked in header order, so the first failure reported is the leftmost bad cell.
 */
export const ImportRow = z
  .strictObject({
    card_no: CardNo,
    tc_kimlik_no: TcKimlikNo,
    hes_code: HesCode,
    card_kind: CardKindText,
    valid_from: RequiredTimeCell,
    valid_to: OptionalTimeCell,
  })
  .superRefine((row, ctx) => {
    if (row.valid_from instanceof Date && row.valid_to instanceof Date && row.valid_to <= row.valid_from) {
      ctx.addIssue(rangeEmptyIssue('valid_to must be after valid_from'));
    }
  })
  .transform(
    (row): Match => ({
      cardNo: row.card_no,
      tcKimlikNo: row.tc_kimlik_no,
      hesCode: row.hes_code,
      cardKind: row.card_kind,
      validFrom: row.valid_from,
      validTo: row.valid_to,
    }),
  );
export type ImportRow = z.infer<typeof ImportRow>;

export type ImportRowResult = { ok: true; row: Match } | { ok: false; reason: ReasonCode; detail: string };

/**
 * Validates one CSV record. The detail names the column and the rule, never the value: import
 * reports are printed and kept, and the cells hold TC numbers and HES codes.
 */
export function parseImportRow(record: Record<string, string>): ImportRowResult {
  const parsed = ImportRow.safeParse(record);
  return parsed.success
    ? { ok: true, row: parsed.data }
    : { ok: false, ...describeFirstIssue(parsed.error, record) };
}

function rangeEmptyIssue(message: string) {
  return { code: 'custom', message, params: { reason: 'RANGE_EMPTY' satisfies ReasonCode } } as const;
}
