import fc from 'fast-check';
import { HeartbeatV1, MAX_MESSAGE_BYTES, parseValidatorMessage, TapV1 } from './tap';

// Hand-written synthetic tap; the card number is made up.
const CARD = '0412345678901234';
const tap = {
  schema: 'tap.v1',
  validatorId: 'BUS-30412-1',
  seq: 184467,
  cardNo: CARD,
  tappedAt: '2020-11-20T08:15:42.120+03:00',
  mode: 'BUS',
  lineCode: '202',
  vehicleId: '35-ESH-3041',
  stopCode: '10345',
  result: 'ACCEPTED',
  rejectReason: null,
};
const heartbeat = {
  schema: 'heartbeat.v1',
  validatorId: 'BUS-30412-1',
  lastSeq: 184467,
  at: '2020-11-21T00:05:00.000+03:00',
};

const json = (value: unknown): string => JSON.stringify(value);
const withTap = (patch: Record<string, unknown>): string => json({ ...tap, ...patch });
function without(key: string): string {
  const copy: Record<string, unknown> = { ...tap };
  delete copy[key];
  return json(copy);
}

describe('parseValidatorMessage: taps', () => {
  it('parses the SPEC example tap, with the instant as epoch ms beside the original text', () => {
    expect(parseValidatorMessage(Buffer.from(json(tap)))).toEqual({
      ok: true,
      kind: 'tap',
      tap: { ...tap, tappedAtMs: Date.parse('2020-11-20T05:15:42.120Z') },
    });
  });

  it('accepts a string value as well as bytes', () => {
    expect(parseValidatorMessage(json(tap))).toMatchObject({ ok: true, kind: 'tap' });
  });

  it('normalises the card number (trim, upper-case)', () => {
    const result = parseValidatorMessage(withTap({ cardNo: ' 0412abcdef01 ' }));
    expect(result.ok && result.kind === 'tap' && result.tap.cardNo).toBe('0412ABCDEF01');
  });

  it('accepts a rejected tap that carries its reason, and a tap with only a stop or only a vehicle', () => {
    for (const patch of [
      { result: 'REJECTED', rejectReason: 'HES_RISKY' },
      { vehicleId: null },
      { stopCode: null },
      { mode: 'SUBURBAN_RAIL', seq: 0, tappedAt: '2020-11-20T05:15:42Z' },
    ]) {
      expect(parseValidatorMessage(withTap(patch))).toMatchObject({ ok: true, kind: 'tap' });
    }
  });

  it.each<[string, Buffer | string | null]>([
    ['a null value (tombstone)', null],
    ['an empty string', ''],
    ['an empty buffer', Buffer.alloc(0)],
  ])('reports EMPTY_VALUE for %s', (_case, raw) => {
    expect(parseValidatorMessage(raw)).toMatchObject({ ok: false, reason: 'EMPTY_VALUE' });
  });

  it('accepts a value of exactly 16 KiB and reports OVERSIZED one byte above', () => {
    const body = json(tap);
    const exact = body + ' '.repeat(MAX_MESSAGE_BYTES - body.length);
    expect(parseValidatorMessage(Buffer.from(exact))).toMatchObject({ ok: true, kind: 'tap' });
    expect(parseValidatorMessage(Buffer.from(`${exact} `))).toEqual({
      ok: false,
      reason: 'OVERSIZED',
      detail: '16385 bytes > 16384',
    });
  });

  it('measures a string value in UTF-8 bytes, not characters', () => {
    const body = withTap({ lineCode: 'Ş' });
    const padded = body + ' '.repeat(MAX_MESSAGE_BYTES - body.length);
    expect(parseValidatorMessage(padded)).toMatchObject({ ok: false, reason: 'OVERSIZED' });
  });

  it.each<[string, Buffer | string]>([
    ['truncated JSON', `{"schema":"tap.v1","cardNo":"${CARD}"`],
    ['trailing garbage', `${json(tap)}x`],
    [
      'bytes that are not UTF-8',
      Buffer.concat([Buffer.from(`{"cardNo":"${CARD}","x":"`), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]),
    ],
  ])('reports INVALID_JSON for %s, without quoting the value', (_case, raw) => {
    const result = parseValidatorMessage(raw);
    expect(result).toEqual({ ok: false, reason: 'INVALID_JSON', detail: 'value is not UTF-8 JSON' });
  });

  it.each(['[]', '42', 'null', '"tap.v1"', `[${json(tap)}]`])('reports NOT_AN_OBJECT for %s', (raw) => {
    expect(parseValidatorMessage(raw)).toMatchObject({ ok: false, reason: 'NOT_AN_OBJECT' });
  });

  it('reports UNKNOWN_SCHEMA for a missing, foreign or non-string schema', () => {
    expect(parseValidatorMessage(without('schema'))).toEqual({
      ok: false,
      reason: 'UNKNOWN_SCHEMA',
      detail: 'schema is missing',
    });
    expect(parseValidatorMessage(withTap({ schema: 'tap.v2' }))).toEqual({
      ok: false,
      reason: 'UNKNOWN_SCHEMA',
      detail: 'schema "tap.v2" is not supported',
    });
    expect(parseValidatorMessage(withTap({ schema: 1 }))).toMatchObject({ reason: 'UNKNOWN_SCHEMA' });
    expect(parseValidatorMessage(withTap({ schema: 'TAP.V1' }))).toMatchObject({ reason: 'UNKNOWN_SCHEMA' });
  });

  it('does not echo a schema value that could hold personal data', () => {
    const result = parseValidatorMessage(withTap({ schema: `tap.v1 ${CARD}` }));
    expect(result).toEqual({ ok: false, reason: 'UNKNOWN_SCHEMA', detail: 'schema is not supported' });
  });

  it('reports UNKNOWN_FIELD for an extra key, counting keys without naming them', () => {
    expect(parseValidatorMessage(withTap({ [CARD]: 1, chipUid: 'x' }))).toEqual({
      ok: false,
      reason: 'UNKNOWN_FIELD',
      detail: '2 unexpected keys',
    });
  });

  it.each<[string, string, string]>([
    ['a missing lineCode', without('lineCode'), 'lineCode: required'],
    ['a missing vehicleId key', without('vehicleId'), 'vehicleId: required'],
    ['a negative seq', withTap({ seq: -1 }), 'seq: must be >= 0'],
    ['a fractional seq', withTap({ seq: 1.5 }), 'seq: expected int'],
    ['a seq beyond 2^53', withTap({ seq: 2 ** 53 }), 'seq: must be <= 9007199254740991'],
    ['a seq sent as a string', withTap({ seq: '184467' }), 'seq: expected number'],
    [
      'a lower-case validatorId',
      withTap({ validatorId: 'bus-1' }),
      'validatorId: must match /^[A-Z0-9-]{1,32}$/',
    ],
    ['an empty validatorId', withTap({ validatorId: '' }), 'validatorId: must match /^[A-Z0-9-]{1,32}$/'],
    ['an unknown mode', withTap({ mode: 'TAXI' }), 'mode: must be one of BUS|METRO|FERRY|TRAM|SUBURBAN_RAIL'],
    ['an empty lineCode', withTap({ lineCode: '' }), 'lineCode: must have at least 1 character'],
    [
      'a 17-character lineCode',
      withTap({ lineCode: 'L'.repeat(17) }),
      'lineCode: must have at most 16 characters',
    ],
    ['an empty vehicleId', withTap({ vehicleId: '' }), 'vehicleId: must have at least 1 character'],
    [
      'a 33-character stopCode',
      withTap({ stopCode: 'S'.repeat(33) }),
      'stopCode: must have at most 32 characters',
    ],
    ['an unknown result', withTap({ result: 'OK' }), 'result: must be one of ACCEPTED|REJECTED'],
    [
      'an unknown rejectReason',
      withTap({ result: 'REJECTED', rejectReason: 'NO_MONEY' }),
      'rejectReason: must be one of INSUFFICIENT_BALANCE|CARD_BLOCKED|HES_NOT_MATCHED|HES_RISKY|OTHER',
    ],
    ['a numeric cardNo', withTap({ cardNo: 412345678901234 }), 'cardNo: expected string'],
  ])('reports INVALID_FIELD for %s', (_case, raw, detail) => {
    expect(parseValidatorMessage(raw)).toEqual({ ok: false, reason: 'INVALID_FIELD', detail });
  });

  it.each(['XYZ45678', '1234567', 'ABCDEF0123456789ABCDE', '0412-3456-7890'])(
    'reports CARD_NO_INVALID for the card number %j, without quoting it',
    (cardNo) => {
      expect(parseValidatorMessage(withTap({ cardNo }))).toEqual({
        ok: false,
        reason: 'CARD_NO_INVALID',
        detail: 'cardNo: must be 8-20 characters of 0-9 A-F',
      });
    },
  );

  it.each(['2020-11-20 08:15:42+03:00', '2020-02-30T08:15:42Z', 'yesterday'])(
    'reports TIME_INVALID for tappedAt %j',
    (tappedAt) => {
      expect(parseValidatorMessage(withTap({ tappedAt }))).toMatchObject({
        ok: false,
        reason: 'TIME_INVALID',
      });
    },
  );

  it('reports TIME_NO_OFFSET for a device-local tappedAt', () => {
    expect(parseValidatorMessage(withTap({ tappedAt: '2020-11-20T08:15:42.120' }))).toEqual({
      ok: false,
      reason: 'TIME_NO_OFFSET',
      detail: 'tappedAt: must end in Z or a +hh:mm offset',
    });
  });

  it('reports NO_VEHICLE_OR_STOP when both vehicleId and stopCode are null', () => {
    expect(parseValidatorMessage(withTap({ vehicleId: null, stopCode: null }))).toMatchObject({
      ok: false,
      reason: 'NO_VEHICLE_OR_STOP',
    });
  });

  it('reports REJECT_REASON_MISMATCH for a reason on an accepted tap or none on a rejected one', () => {
    expect(parseValidatorMessage(withTap({ rejectReason: 'OTHER' }))).toEqual({
      ok: false,
      reason: 'REJECT_REASON_MISMATCH',
      detail: 'rejectReason must be null when result is ACCEPTED',
    });
    expect(parseValidatorMessage(withTap({ result: 'REJECTED' }))).toEqual({
      ok: false,
      reason: 'REJECT_REASON_MISMATCH',
      detail: 'rejectReason is required when result is REJECTED',
    });
  });

  it('reports the first failing field in contract order', () => {
    const result = parseValidatorMessage(withTap({ cardNo: 'nope', lineCode: '', extra: 1 }));
    expect(result).toMatchObject({ ok: false, reason: 'CARD_NO_INVALID' });
  });

  it('never puts the card number into the detail, whatever else is wrong', () => {
    const cardNo = fc.stringMatching(/^[0-9A-F]{8,20}$/);
    const junk = fc.oneof(fc.constant(undefined), fc.jsonValue());
    const fields = fc.record({
      validatorId: junk,
      seq: junk,
      tappedAt: junk,
      mode: junk,
      lineCode: junk,
      vehicleId: junk,
      stopCode: junk,
      result: junk,
      rejectReason: junk,
    });
    fc.assert(
      fc.property(cardNo, fields, fc.boolean(), (card, patch, lowerCase) => {
        const message = { ...tap, ...patch, cardNo: lowerCase ? card.toLowerCase() : card };
        const result = parseValidatorMessage(JSON.stringify(message));
        if (!result.ok) {
          expect(result.detail).not.toContain(card);
          expect(result.detail.toUpperCase()).not.toContain(card);
        }
      }),
    );
  });
});

describe('parseValidatorMessage: heartbeats', () => {
  it('parses the SPEC example heartbeat with its instant as epoch ms', () => {
    expect(parseValidatorMessage(Buffer.from(json(heartbeat)))).toEqual({
      ok: true,
      kind: 'heartbeat',
      heartbeat: { ...heartbeat, atMs: Date.parse('2020-11-20T21:05:00.000Z') },
    });
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a negative lastSeq', { lastSeq: -1 }, 'INVALID_FIELD'],
    ['a missing at', { at: undefined }, 'INVALID_FIELD'],
    ['an at without offset', { at: '2020-11-21T00:05:00' }, 'TIME_NO_OFFSET'],
    ['a tap field on a heartbeat', { seq: 1 }, 'UNKNOWN_FIELD'],
  ])('rejects a heartbeat with %s', (_case, patch, reason) => {
    expect(parseValidatorMessage(json({ ...heartbeat, ...patch }))).toMatchObject({ ok: false, reason });
  });
});

describe('TapV1 and HeartbeatV1 schemas', () => {
  it('are usable on their own for already-decoded objects', () => {
    expect(TapV1.parse(tap).tappedAtMs).toBe(Date.parse('2020-11-20T05:15:42.120Z'));
    expect(HeartbeatV1.parse(heartbeat).atMs).toBe(Date.parse('2020-11-20T21:05:00.000Z'));
  });
});
