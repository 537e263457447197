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
});
