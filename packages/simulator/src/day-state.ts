import type { City } from './city';
import type { RegistryModel } from './registry-model';
import type { TapTable } from './ridership';

// The compact state of a planned day, shared by the planner (day.ts) and the serializer
// (messages.ts): typed arrays indexed by tap or by message, no per-message objects.

/** Tap flags: which fault a tap carries. Faults are disjoint so that each has one outcome. */
export const TAP_FLAG = {
  /** An earlier tap whose seq a counter reset reuses: stored, it arrives first. */
  RESET_ORIGINAL: 1,
  /** A tap after a counter reset, reusing an earlier seq with another card: SEQ_CONFLICT. */
  RESET_CONFLICT: 2,
  DRIFT_FUTURE: 4,
  DRIFT_OLD: 8,
} as const;

export const MESSAGE_KIND = { TAP: 0, DUPLICATE: 1, HEARTBEAT: 2, MALFORMED: 3 } as const;

/** Everything the messages and the truth are computed from. */
export type DayState = {
  city: City;
  registry: RegistryModel;
  taps: TapTable;
  card: Uint32Array;
  /** 0 = ACCEPTED, i + 1 = REJECTED with `TAP_REJECT_REASONS[i]`. */
  result: Uint8Array;
  seq: Float64Array;
  /** The instant the device clock wrote: the real one except on drifting taps. */
  shownTime: Float64Array;
  malformed: { tap: Uint32Array; kind: Uint8Array; cut: Uint16Array };
  msg: MessageColumns;
  order: Uint32Array;
};

export type MessageColumns = {
  count: number;
  kind: Uint8Array;
  validator: Uint32Array;
  /** Tap index (taps, duplicates), malformed index, or the heartbeat's lastSeq. */
  ref: Float64Array;
  /** Kafka timestamp: the upload instant (epoch ms). */
  time: Float64Array;
  /** The heartbeat's `at`. */
  at: Float64Array;
};
