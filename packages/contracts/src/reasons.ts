import { z } from 'zod';

// Persisted in the dead-letter store and counted per day, so codes are only ever added,
// never renamed or reused with a new meaning.
export const REASON_CODES = [
  'EMPTY_VALUE',
  'OVERSIZED',
  'INVALID_JSON',
  'NOT_AN_OBJECT',
  'UNKNOWN_SCHEMA',
  'UNKNOWN_FIELD',
  'INVALID_FIELD',
  'CARD_NO_INVALID',
  'CARD_KIND_INVALID',
  'TC_INVALID_LENGTH',
  'TC_NOT_DIGITS',
  'TC_LEADING_ZERO',
  'TC_CHECKSUM',
  'HES_INVALID',
  'TIME_INVALID',
  'TIME_NO_OFFSET',
  'RANGE_EMPTY',
  'REJECT_REASON_MISMATCH',
  'NO_VEHICLE_OR_STOP',
  'SEQ_CONFLICT',
  'CLOCK_DRIFT_FUTURE',
  'TAP_TOO_OLD',
  'STORE_REJECTED',
] as const;

export const ReasonCode = z.enum(REASON_CODES);
export type ReasonCode = z.infer<typeof ReasonCode>;

// One line per code for operators reading `deadletters list` or an import report; a Record
// keyed by the union makes adding a code without describing it a type error.
export const REASON_DESCRIPTIONS: Readonly<Record<ReasonCode, string>> = {
  EMPTY_VALUE: 'message value is null or empty (a Kafka tombstone or an empty upload)',
  OVERSIZED: 'message value is larger than 16 KiB',
  INVALID_JSON: 'message value is not UTF-8 JSON',
  NOT_AN_OBJECT: 'message value is JSON but not an object',
  UNKNOWN_SCHEMA: '`schema` is missing or is neither tap.v1 nor heartbeat.v1',
  UNKNOWN_FIELD: 'the message or row has a key the schema does not define',
  INVALID_FIELD: 'a field is missing, of the wrong type or out of range (the detail names it)',
  CARD_NO_INVALID: 'card number is not 8-20 characters of 0-9 A-F after trimming and upper-casing',
  CARD_KIND_INVALID: 'card kind is neither PERSONAL nor ANONYMOUS',
  TC_INVALID_LENGTH: 'TC kimlik no does not have 11 digits',
  TC_NOT_DIGITS: 'TC kimlik no contains a character other than 0-9',
  TC_LEADING_ZERO: 'TC kimlik no starts with 0',
  TC_CHECKSUM: 'TC kimlik no fails the 10th or 11th digit check',
  HES_INVALID: 'HES code is not 10 characters of A-Z 0-9 after dropping dashes and spaces',
  TIME_INVALID: 'time is not an ISO 8601 date-time, or names an impossible date or time',
  TIME_NO_OFFSET: 'time is an ISO 8601 local date-time without Z or a +hh:mm offset',
  RANGE_EMPTY: 'valid_to is not after valid_from',
  REJECT_REASON_MISMATCH: 'rejectReason is set on an ACCEPTED tap or missing on a REJECTED one',
  NO_VEHICLE_OR_STOP: 'a tap has neither vehicleId nor stopCode',
  SEQ_CONFLICT:
    '(validatorId, seq) already stored with another card or instant: a reset counter; the first kept',
  CLOCK_DRIFT_FUTURE: "tappedAt (a heartbeat's at) is more than 10 minutes after the Kafka message timestamp",
  TAP_TOO_OLD:
    "tappedAt (a heartbeat's at) is more than MAX_TAP_AGE_DAYS (default 7) before the Kafka message timestamp",
  STORE_REJECTED:
    'the database refused to store this message for a reason that is not transient (the detail holds its error); the rest of its batch was stored',
};

export function isReasonCode(value: unknown): value is ReasonCode {
  return typeof value === 'string' && (REASON_CODES as readonly string[]).includes(value);
}
