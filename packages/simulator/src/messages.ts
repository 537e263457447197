import { type HeartbeatV1, MAX_MESSAGE_BYTES, TAP_REJECT_REASONS, type TapV1 } from '@boarding/contracts/tap';
import { stopCodeAt } from './city';
import { type DayState, MESSAGE_KIND } from './day-state';
import { istanbulIso } from './istanbul-time';
import { MALFORMED_KINDS } from './truth';

/** One Kafka message: key = validator id, value = JSON, timestamp = upload instant in epoch ms. */
export type SimMessage = { key: string; value: string; timestamp: string };

/** The JSON a validator sends: the contract's types without the instants parsing adds. */
export type TapJson = Omit<TapV1, 'tappedAtMs'>;
export type HeartbeatJson = Omit<HeartbeatV1, 'atMs'>;

/**
 * Writes message `m` (a column index, not a production position) of a planned day. Pure: the
 * same state and index give the same bytes.
 */
export function createSerializer(state: DayState): (m: number) => SimMessage {
  const { city, registry, taps, card, result, seq, shownTime, malformed, msg } = state;

  const tapJson = (i: number): TapJson => {
    const validator = city.validators[taps.validator[i] ?? 0];
    if (validator === undefined) throw new Error(`tap ${i} has no validator`);
    const r = result[i] ?? 0;
    return {
      schema: 'tap.v1',
      validatorId: validator.id,
      seq: seq[i] ?? 0,
      cardNo: registry.cardNoOf(card[i] ?? 0),
      tappedAt: istanbulIso(shownTime[i] ?? 0),
      mode: validator.mode,
      lineCode: validator.lineCode,
      vehicleId: validator.vehicleId,
      stopCode: stopCodeAt(validator, taps.time[i] ?? 0),
      result: r === 0 ? 'ACCEPTED' : 'REJECTED',
      rejectReason: r === 0 ? null : (TAP_REJECT_REASONS[r - 1] ?? 'OTHER'),
    };
  };

  const malformedValue = (j: number): string => {
    const tap = tapJson(malformed.tap[j] ?? 0);
    switch (MALFORMED_KINDS[malformed.kind[j] ?? 0]) {
      case 'INVALID_JSON': {
        // A truncated upload: an object cut before its closing brace is never valid JSON.
        const text = JSON.stringify(tap);
        return text.slice(0, Math.min(malformed.cut[j] ?? 8, text.length - 1));
      }
      case 'UNKNOWN_SCHEMA':
        return JSON.stringify({ ...tap, schema: 'tap.v2' });
      case 'INVALID_FIELD':
        // Firmware that writes the counter as a string.
        return JSON.stringify({ ...tap, seq: String(tap.seq) });
      default:
        // OVERSIZED: a device that attaches a diagnostic dump to a tap.
        return JSON.stringify({
          ...tap,
          diagnostics: 'F'.repeat(MAX_MESSAGE_BYTES + (malformed.cut[j] ?? 0)),
        });
    }
  };

  // The hot path writes tap JSON by concatenation from per-validator parts, at a third of the
  // cost of JSON.stringify: the same text, keys in TapJson order (unit tests hold every value
  // to be canonical JSON in that order). Every part is [A-Z0-9-] text or a number, nothing to
  // escape.
  const parts = city.validators.map((v) => ({
    head: `{"schema":"tap.v1","validatorId":${JSON.stringify(v.id)},"seq":`,
    middle: `,"mode":${JSON.stringify(v.mode)},"lineCode":${JSON.stringify(v.lineCode)},"vehicleId":${JSON.stringify(v.vehicleId)},"stopCode":`,
  }));
  const results = [
    ',"result":"ACCEPTED","rejectReason":null}',
    ...TAP_REJECT_REASONS.map((reason) => `,"result":"REJECTED","rejectReason":"${reason}"}`),
  ];
  const tapValue = (i: number): string => {
    const v = taps.validator[i] ?? 0;
    const part = parts[v];
    const validator = city.validators[v];
    if (part === undefined || validator === undefined) throw new Error(`tap ${i} has no validator`);
    const stop = stopCodeAt(validator, taps.time[i] ?? 0);
    return `${part.head}${seq[i] ?? 0},"cardNo":"${registry.cardNoOf(card[i] ?? 0)}","tappedAt":"${istanbulIso(shownTime[i] ?? 0)}"${part.middle}${stop === null ? 'null' : `"${stop}"`}${results[result[i] ?? 0]}`;
  };

  const { TAP, DUPLICATE, HEARTBEAT } = MESSAGE_KIND;
  return (m) => {
    const validator = city.validators[msg.validator[m] ?? 0];
    if (validator === undefined) throw new Error(`message ${m} has no validator`);
    const kind = msg.kind[m];
    const ref = msg.ref[m] ?? 0;
    let value: string;
    if (kind === TAP || kind === DUPLICATE) {
      value = tapValue(ref);
    } else if (kind === HEARTBEAT) {
      const heartbeat: HeartbeatJson = {
        schema: 'heartbeat.v1',
        validatorId: validator.id,
        lastSeq: ref,
        at: istanbulIso(msg.at[m] ?? 0),
      };
      value = JSON.stringify(heartbeat);
    } else {
      value = malformedValue(ref);
    }
    return { key: validator.id, value, timestamp: String(msg.time[m] ?? 0) };
  };
}
