import { z } from 'zod';
import { CardNo } from './card-no';
import { describeFirstIssue, isRecord } from './issues';
import type { ReasonCode } from './reasons';
import { OffsetDateTime } from './time';

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

export const ValidatorId = z.string().regex(/^[A-Z0-9-]{1,32}$/);
export type ValidatorId = z.infer<typeof ValidatorId>;

// (validatorId, seq) identifies a tap and gaps are computed by subtraction, so seq must be
// exact in a double.
const Seq = z.int().min(0);

const VehicleOrStop = z.string().min(1).max(32).nullable();

// Every key is required, nullable ones included: the contract is exact, and a producer that
// starts omitting keys should surface as dead-letters rather than be guessed at.
export const TapV1 = z
  .strictObject({
    schema: z.literal('tap.v1'),
    validatorId: ValidatorId,
    seq: Seq,
    cardNo: CardNo,
    tappedAt: OffsetDateTime,
    mode: TransitMode,
    lineCode: z.string().min(1).max(16),
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
    at: OffsetDateTime,
  })
  .transform(({ at, ...heartbeat }) => ({ ...heartbeat, at: at.iso, atMs: at.ms }));
export type HeartbeatV1 = z.infer<typeof HeartbeatV1>;

export type ValidatorMessage =
  | { ok: true; kind: 'tap'; tap: TapV1 }
  | { ok: true; kind: 'heartbeat'; heartbeat: HeartbeatV1 }
  | { ok: false; reason: ReasonCode; detail: string };

// fatal: a replacement character would turn corrupt bytes into a "valid" card number.
const UTF8 = new TextDecoder('utf-8', { fatal: true });

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
