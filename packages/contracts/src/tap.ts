import { z } from 'zod';
import { CARD_NO, CardNo } from './card-no';
import { describeFirstIssue, isRecord, reasonedString } from './issues';
import type { ReasonCode } from './reasons';
import { parseOffsetDateTime, TIME_REASON_MESSAGES } from './time';

// Service day is part of the tap contract (SPEC §2); it lives beside the time parsing.
export { serviceDayOf } from './time';

export const VALIDATOR_TAPS_TOPIC = 'validator.taps.v1';

/** SPEC §2: a larger value is dead-lettered unparsed, so a broken device cannot make us buffer megabytes. */
export const MAX_MESSAGE_BYTES = 16 * 1024;

export const TRANSIT_MODES = ['BUS', 'METRO', 'FERRY', 'TRAM', 'SUBURBAN_RAIL'] as const;
export const TransitMode = z.enum(TRANSIT_MODES);
export type TransitMode = z.infer<typeof TransitMode>;

export const TAP_RESULTS = ['ACCEPTED', 'REJECTED'] as const;
export const TapResult = z.enum(TAP_RESULTS);
export type TapResult = z.infer<typeof TapResult>;

/** Why the validator refused the boarding: the device's verdict, not ours. */
export const TAP_REJECT_REASONS = [
  'INSUFFICIENT_BALANCE',
  'CARD_BLOCKED',
  'HES_NOT_MATCHED',
  'HES_RISKY',
  'OTHER',
] as const;
export const TapRejectReason = z.enum(TAP_REJECT_REASONS);
export type TapRejectReason = z.infer<typeof TapRejectReason>;

const VALIDATOR_ID = /^[A-Z0-9-]{1,32}$/;
export const ValidatorId = z.string().regex(VALIDATOR_ID);
export type ValidatorId = z.infer<typeof ValidatorId>;

// (validatorId, seq) identifies a tap and gaps are computed by subtraction, so seq must be
// exact in a double.
const Seq = z.int().min(0);

const NOT_PRINTABLE = 'must be printable (no control characters or lone surrogates)';

/**
 * The number of Unicode code points in `text`, or -1 when it is not printable in the SPEC §2
 * sense: a control character (U+0000–U+001F, U+007F) or a lone UTF-16 surrogate. NUL cannot be
 * stored in a PostgreSQL text column (the whole batch would fail), the other controls would be
 * carried into the Ministry's CSV and our logs, and a lone surrogate (JSON.parse makes one of a
 * "\ud800" escape) has no UTF-8 form: the driver would store U+FFFD, a value never sent.
 */
function printableLength(text: string): number {
  let codePoints = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x20 || unit === 0x7f) return -1;
    if (unit >= 0xd800 && unit <= 0xdfff) {
      // Only a high surrogate followed by a low one is a character; NaN past the end fails too.
      const next = text.charCodeAt(i + 1);
      if (unit > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) return -1;
      i++;
    }
    codePoints++;
  }
  return codePoints;
}

/**
 * SPEC §2's "1–N printable chars". Characters are counted as Unicode code points, not UTF-16
 * code units (what `z.string().max()` counts): PostgreSQL's char_length and a reader of the
 * CSV count code points, and an emoji must not use two of a line code's 16 characters. The
 * messages are the ones zod's own min/max give, so details did not change with the rule.
 */
function printableText(maxCodePoints: number) {
  return z.string().superRefine((text, ctx) => {
    const message = printableTextIssue(text, maxCodePoints);
    if (message !== undefined) {
      ctx.addIssue({ code: 'custom', message, params: { reason: 'INVALID_FIELD' satisfies ReasonCode } });
    }
  });
}

// The value is never put into the message: details are logged and stored.
function printableTextIssue(text: string, maxCodePoints: number): string | undefined {
  const length = printableLength(text);
  if (length < 0) return NOT_PRINTABLE;
  if (length < 1) return 'must have at least 1 character';
  if (length > maxCodePoints) return `must have at most ${maxCodePoints} characters`;
  return undefined;
}

const LineCode = printableText(16);
const VehicleOrStop = printableText(32).nullable();

/**
 * An instant of SPEC §2 (`tappedAt`, `at`): an ISO 8601 date-time with an offset, in the years
 * 2000–2099. The year judged is the one written, before the offset is applied, so
 * "1999-12-31T23:59:59-05:00" is out although its instant falls in 2000 UTC: the rule reads
 * the text the device sent, the simplest check a producer can reproduce. (time.ts stays
 * unbounded: the registry import reads historical ranges through it.)
 */
const ContractInstant = reasonedString((input) => {
  const result = parseOffsetDateTime(input);
  if (!result.ok) return { ok: false, reason: result.reason, message: TIME_REASON_MESSAGES[result.reason] };
  // parseOffsetDateTime accepted it, so the text starts with four digits of year.
  const year = Number(input.slice(0, 4));
  if (year < 2000 || year > 2099) {
    return { ok: false, reason: 'INVALID_FIELD', message: 'year must be 2000–2099' };
  }
  return { ok: true, value: { iso: input, ms: result.ms } };
});

// Every key is required, nullable ones included: the contract is exact, and a producer that
// starts omitting keys should surface as dead-letters rather than be guessed at.
export const TapV1 = z
  .strictObject({
    schema: z.literal('tap.v1'),
    validatorId: ValidatorId,
    seq: Seq,
    cardNo: CardNo,
    tappedAt: ContractInstant,
    mode: TransitMode,
    lineCode: LineCode,
    vehicleId: VehicleOrStop,
    stopCode: VehicleOrStop,
    result: TapResult,
    rejectReason: TapRejectReason.nullable(),
  })
  .superRefine((tap, ctx) => {
    if (tap.vehicleId === null && tap.stopCode === null) {
      ctx.addIssue({
        code: 'custom',
        message: 'vehicleId and stopCode are both null; at least one is required',
        params: { reason: 'NO_VEHICLE_OR_STOP' satisfies ReasonCode },
      });
    }
    if (tap.result === 'ACCEPTED' && tap.rejectReason !== null) {
      ctx.addIssue({
        code: 'custom',
        message: 'rejectReason must be null when result is ACCEPTED',
        params: { reason: 'REJECT_REASON_MISMATCH' satisfies ReasonCode },
      });
    }
    if (tap.result === 'REJECTED' && tap.rejectReason === null) {
      ctx.addIssue({
        code: 'custom',
        message: 'rejectReason is required when result is REJECTED',
        params: { reason: 'REJECT_REASON_MISMATCH' satisfies ReasonCode },
      });
    }
  })
  .transform(({ tappedAt, ...tap }) => ({ ...tap, tappedAt: tappedAt.iso, tappedAtMs: tappedAt.ms }));
export type TapV1 = z.infer<typeof TapV1>;

export const HeartbeatV1 = z
  .strictObject({
    schema: z.literal('heartbeat.v1'),
    validatorId: ValidatorId,
    lastSeq: Seq,
    at: ContractInstant,
  })
  .transform(({ at, ...heartbeat }) => ({ ...heartbeat, at: at.iso, atMs: at.ms }));
export type HeartbeatV1 = z.infer<typeof HeartbeatV1>;

export type ValidatorMessage =
  | { ok: true; kind: 'tap'; tap: TapV1 }
  | { ok: true; kind: 'heartbeat'; heartbeat: HeartbeatV1 }
  | { ok: false; reason: ReasonCode; detail: string };

// fatal: a replacement character would turn corrupt bytes into a "valid" card number.
// ignoreBOM: without it the decoder silently drops a leading byte order mark, and a value
// RFC 8259 says a sender must not produce would be stored as if it were JSON.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const BOM_DETAIL = 'value starts with a byte order mark';

/**
 * Parses one Kafka message value. Never throws: every failure is a reason for the dead-letter
 * store. The detail names fields and rules only, never a value, because it is logged.
 */
export function parseValidatorMessage(raw: Uint8Array | string | null | undefined): ValidatorMessage {
  if (raw === null || raw === undefined || raw.length === 0) {
    return { ok: false, reason: 'EMPTY_VALUE', detail: 'message value is empty' };
  }
  const bytes = typeof raw === 'string' ? Buffer.byteLength(raw, 'utf8') : raw.byteLength;
  if (bytes > MAX_MESSAGE_BYTES) {
    return { ok: false, reason: 'OVERSIZED', detail: `${bytes} bytes > ${MAX_MESSAGE_BYTES}` };
  }
  if (startsWithBom(raw)) return { ok: false, reason: 'INVALID_JSON', detail: BOM_DETAIL };
  let value: unknown;
  try {
    value = JSON.parse(typeof raw === 'string' ? raw : UTF8.decode(raw));
  } catch {
    // The engine's message quotes the input, which may hold a card number.
    return { ok: false, reason: 'INVALID_JSON', detail: 'value is not UTF-8 JSON' };
  }
  if (!isRecord(value)) {
    return { ok: false, reason: 'NOT_AN_OBJECT', detail: `value is JSON ${jsonKind(value)}, not an object` };
  }
  const schema = value.schema;
  if (schema === 'tap.v1') {
    const fast = readValidTapV1(value);
    if (fast !== undefined) return { ok: true, kind: 'tap', tap: fast };
    // zod explains what the fast check refused, so the reasons and details stay zod's.
    const parsed = TapV1.safeParse(value);
    return parsed.success
      ? { ok: true, kind: 'tap', tap: parsed.data }
      : { ok: false, ...describeFirstIssue(parsed.error, value) };
  }
  if (schema === 'heartbeat.v1') {
    const parsed = HeartbeatV1.safeParse(value);
    return parsed.success
      ? { ok: true, kind: 'heartbeat', heartbeat: parsed.data }
      : { ok: false, ...describeFirstIssue(parsed.error, value) };
  }
  return { ok: false, reason: 'UNKNOWN_SCHEMA', detail: describeSchema(schema) };
}

function startsWithBom(raw: Uint8Array | string): boolean {
  if (typeof raw === 'string') return raw.charCodeAt(0) === 0xfeff;
  return raw.length >= 3 && raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf;
}

// A version-like name is echoed to tell a new producer version from garbage; the pattern
// cannot hold a TC, a HES code or a card number.
const SCHEMA_NAME = /^[a-z][a-z_-]{0,30}\.v\d{1,3}$/;

function describeSchema(schema: unknown): string {
  if (schema === undefined) return 'schema is missing';
  if (typeof schema !== 'string') return `schema is JSON ${jsonKind(schema)}, expected a string`;
  return SCHEMA_NAME.test(schema) ? `schema "${schema}" is not supported` : 'schema is not supported';
}

function jsonKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

const TAP_V1_KEYS = 11;

/**
 * The common case of `TapV1.safeParse` without zod: a tap every field of which is already in its
 * normal form. Returns exactly what zod would return for it, or undefined for anything else,
 * which zod then judges (and explains). It may refuse a valid tap (a card number to trim or
 * upper-case), never accept an invalid one: the contract stays the zod schema's. zod with its
 * transforms cost ~20 µs a tap, half of the ingest's time on its one core (issue 16).
 */
export function readValidTapV1(value: Record<string, unknown>): TapV1 | undefined {
  // strictObject: exactly the eleven keys. Each is checked below, so eleven own enumerable
  // keys (JSON.parse makes no others) that all pass are exactly the contract's keys.
  let keys = 0;
  for (const key in value) if (Object.hasOwn(value, key)) keys++;
  if (keys !== TAP_V1_KEYS || value.schema !== 'tap.v1') return undefined;
  const { validatorId, seq, cardNo, tappedAt, mode, lineCode, vehicleId, stopCode, result, rejectReason } =
    value;
  if (typeof validatorId !== 'string' || !VALIDATOR_ID.test(validatorId)) return undefined;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) return undefined;
  // Only the normal form (tested as sent): one that trimming and upper-casing would change goes to zod.
  if (typeof cardNo !== 'string' || !CARD_NO.test(cardNo)) return undefined;
  if (typeof tappedAt !== 'string') return undefined;
  const instant = parseOffsetDateTime(tappedAt);
  if (!instant.ok) return undefined;
  const year = Number(tappedAt.slice(0, 4));
  if (year < 2000 || year > 2099) return undefined;
  if (!isTransitMode(mode)) return undefined;
  if (typeof lineCode !== 'string' || !isPrintable(lineCode, 16)) return undefined;
  if (vehicleId !== null && (typeof vehicleId !== 'string' || !isPrintable(vehicleId, 32))) return undefined;
  if (stopCode !== null && (typeof stopCode !== 'string' || !isPrintable(stopCode, 32))) return undefined;
  if (vehicleId === null && stopCode === null) return undefined;
  if (result === 'ACCEPTED') {
    if (rejectReason !== null) return undefined;
  } else if (result !== 'REJECTED' || !isRejectReason(rejectReason)) return undefined;
  // The shape (and key order) of zod's output: the strict object's keys, then the transform's.
  return {
    schema: 'tap.v1',
    validatorId,
    seq,
    cardNo,
    mode,
    lineCode,
    vehicleId,
    stopCode,
    result,
    rejectReason,
    tappedAt,
    tappedAtMs: instant.ms,
  };
}

function isPrintable(text: string, maxCodePoints: number): boolean {
  const length = printableLength(text);
  return length >= 1 && length <= maxCodePoints;
}

function isTransitMode(value: unknown): value is TransitMode {
  return (TRANSIT_MODES as readonly unknown[]).includes(value);
}

function isRejectReason(value: unknown): value is TapRejectReason {
  return (TAP_REJECT_REASONS as readonly unknown[]).includes(value);
}
