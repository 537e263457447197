import { isReasonCode, REASON_CODES, REASON_DESCRIPTIONS, ReasonCode } from './reasons';

describe('reason codes', () => {
  it('are unique upper-case identifiers', () => {
    expect(new Set(REASON_CODES).size).toBe(REASON_CODES.length);
    for (const code of REASON_CODES) expect(code).toMatch(/^[A-Z][A-Z_]*$/);
  });

  it('each have a one-line description', () => {
    expect(Object.keys(REASON_DESCRIPTIONS).sort()).toEqual([...REASON_CODES].sort());
    for (const text of Object.values(REASON_DESCRIPTIONS)) expect(text).not.toMatch(/\n/);
  });

  it('are recognised by isReasonCode and the ReasonCode schema, and nothing else is', () => {
    expect(isReasonCode('TC_CHECKSUM')).toBe(true);
    expect(isReasonCode('SEQ_CONFLICT')).toBe(true);
    expect(isReasonCode('NOT_A_REASON')).toBe(false);
    expect(isReasonCode(1)).toBe(false);
    expect(ReasonCode.safeParse('HES_INVALID').success).toBe(true);
    expect(ReasonCode.safeParse('hes_invalid').success).toBe(false);
  });

  it('only ever grow at the end: stored dead letters keep their meaning', () => {
    expect(REASON_CODES.slice(0, 23)).toEqual([
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
    ]);
  });
});
