import fc from 'fast-check';
import { HeartbeatV1, MAX_MESSAGE_BYTES, parseValidatorMessage, readValidTapV1, TapV1 } from './tap';

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

// SPEC §2 as tightened: printable text, code-point lengths, years 2000–2099, safe integers, no BOM.
describe('parseValidatorMessage: printable text fields', () => {
  const NOT_PRINTABLE = 'must be printable (no control characters or lone surrogates)';
  // A marker beside the hostile character proves the detail does not quote the value.
  const MARK = 'Q7X9';
  const hostile: [string, string][] = [
    ['NUL', '\u0000'],
    ['U+0001', '\u0001'],
    ['a tab', '\t'],
    ['a line feed', '\n'],
    ['a carriage return', '\r'],
    ['ESC', '\u001b'],
    ['U+001F', '\u001f'],
    ['DEL (U+007F)', '\u007f'],
    ['a lone high surrogate', '\ud800'],
    ['a lone low surrogate', '\udfff'],
    ['a high surrogate at the end', '\ud83d'],
    ['a surrogate pair in the wrong order', '\ude8c\ud83d'],
  ];
  const cases = ['lineCode', 'vehicleId', 'stopCode'].flatMap((field) =>
    hostile.map(([label, text]) => [field, label, text] as const),
  );

  it.each(cases)('reports INVALID_FIELD for a %s holding %s, without quoting it', (field, _label, text) => {
    const value = `${MARK}${text}1`;
    const result = parseValidatorMessage(withTap({ [field]: value }));
    expect(result).toEqual({ ok: false, reason: 'INVALID_FIELD', detail: `${field}: ${NOT_PRINTABLE}` });
    expect(!result.ok && result.detail).not.toContain(MARK);
    expect(!result.ok && result.detail).not.toContain(text);
  });

  it('reads "\\ud800" escapes in the JSON text as the lone surrogates they make', () => {
    const raw = json(tap).replace('"lineCode":"202"', '"lineCode":"2\\ud80002"');
    expect(parseValidatorMessage(Buffer.from(raw))).toEqual({
      ok: false,
      reason: 'INVALID_FIELD',
      detail: `lineCode: ${NOT_PRINTABLE}`,
    });
  });

  it('accepts the characters on either side of the control ranges, Turkish letters and emoji', () => {
    for (const patch of [
      { lineCode: ' ~', vehicleId: '\u0080', stopCode: '\u00a0' },
      { lineCode: 'Üçyol-Şirinyer', vehicleId: 'İZBAN-ÇĞ', stopCode: 'Fahrettin Altay İskelesi' },
      { lineCode: '🚌⛴', vehicleId: '\ud83d\ude8c', stopCode: null },
    ]) {
      expect(parseValidatorMessage(withTap(patch))).toMatchObject({ ok: true, kind: 'tap', tap: patch });
    }
  });

  it('counts lengths in code points, not UTF-16 units or graphemes', () => {
    const ok = (patch: Record<string, unknown>) => parseValidatorMessage(withTap(patch)).ok;
    // Each emoji is two UTF-16 units: 16 of them fit a 16-character line code.
    expect(ok({ lineCode: '🚌'.repeat(16) })).toBe(true);
    expect(ok({ stopCode: '🚏'.repeat(32) })).toBe(true);
    expect(parseValidatorMessage(withTap({ lineCode: '🚌'.repeat(17) }))).toEqual({
      ok: false,
      reason: 'INVALID_FIELD',
      detail: 'lineCode: must have at most 16 characters',
    });
    expect(parseValidatorMessage(withTap({ vehicleId: '🚌'.repeat(33) }))).toEqual({
      ok: false,
      reason: 'INVALID_FIELD',
      detail: 'vehicleId: must have at most 32 characters',
    });
    // "é" written as e + a combining accent is two code points.
    expect(ok({ lineCode: 'e\u0301'.repeat(8) })).toBe(true);
    expect(ok({ lineCode: `${'e\u0301'.repeat(8)}x` })).toBe(false);
  });

  it('accepts a text field exactly when it is printable and of 1–16 code points (property)', () => {
    const unit = fc.oneof(
      fc.constantFrom('\u0000', '\u001f', '\u007f', '\ud800', '\udbff', '\udc00', '\udfff'),
      fc.constantFrom(' ', '~', 'Ş', '\u0080', '\ud83d\ude8c', '\ud83d', '\ude8c'),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    );
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 20 }), (lineCode) => {
        // Reference: well-formed iff UTF-8 round-trips; controls by the SPEC's list.
        const wellFormed = Buffer.from(lineCode, 'utf8').toString('utf8') === lineCode;
        const controls = [...lineCode].some((c) => {
          const code = c.charCodeAt(0);
          return code < 0x20 || code === 0x7f;
        });
        const length = [...lineCode].length;
        const result = parseValidatorMessage(withTap({ lineCode }));
        expect(result.ok).toBe(wellFormed && !controls && length >= 1 && length <= 16);
        if (!result.ok) {
          expect(result.reason).toBe('INVALID_FIELD');
          if (lineCode.length > 0) expect(result.detail).not.toContain(lineCode);
        }
      }),
    );
  });
});

describe('parseValidatorMessage: tappedAt and at lie in the years 2000–2099', () => {
  it.each([
    '0000-11-20T08:15:42.120+03:00',
    '1970-01-01T00:00:00Z',
    '1999-12-31T23:59:59.999+03:00',
    // The written year is judged: this instant is 2000-01-01T04:59:59Z, still out.
    '1999-12-31T23:59:59-05:00',
    // And this one, 2099-12-31T22:00:00Z, is out too.
    '2100-01-01T01:00:00+03:00',
    '9999-12-31T23:59:59Z',
  ])('reports INVALID_FIELD for tappedAt %s, and for a heartbeat at it, without quoting it', (instant) => {
    const result = parseValidatorMessage(withTap({ tappedAt: instant }));
    expect(result).toEqual({
      ok: false,
      reason: 'INVALID_FIELD',
      detail: 'tappedAt: year must be 2000–2099',
    });
    expect(parseValidatorMessage(json({ ...heartbeat, at: instant }))).toEqual({
      ok: false,
      reason: 'INVALID_FIELD',
      detail: 'at: year must be 2000–2099',
    });
    expect(!result.ok && result.detail).not.toContain(instant.slice(0, 10));
  });

  it.each([
    ['2000-01-01T00:00:00.000+03:00', '1999-12-31T21:00:00.000Z'],
    ['2099-12-31T23:59:59.999-05:00', '2100-01-01T04:59:59.999Z'],
  ])('accepts %s (the instant %s) by its written year', (instant, utc) => {
    expect(parseValidatorMessage(withTap({ tappedAt: instant }))).toMatchObject({
      ok: true,
      tap: { tappedAt: instant, tappedAtMs: Date.parse(utc) },
    });
    expect(parseValidatorMessage(json({ ...heartbeat, at: instant }))).toMatchObject({
      ok: true,
      heartbeat: { at: instant, atMs: Date.parse(utc) },
    });
  });

  it('still reports an impossible date or a missing offset as such, whatever the year', () => {
    expect(parseValidatorMessage(withTap({ tappedAt: '2100-02-29T00:00:00Z' }))).toMatchObject({
      reason: 'TIME_INVALID',
    });
    expect(parseValidatorMessage(withTap({ tappedAt: '1999-01-01T00:00:00' }))).toMatchObject({
      reason: 'TIME_NO_OFFSET',
    });
  });
});

describe('parseValidatorMessage: seq and lastSeq are safe integers >= 0', () => {
  // Written into the JSON text as they would arrive: JSON.stringify cannot spell 2^53 + 1.
  const tapWithSeq = (literal: string): string =>
    json({ ...tap, seq: 0 }).replace('"seq":0', `"seq":${literal}`);
  const heartbeatWithLastSeq = (literal: string): string =>
    json({ ...heartbeat, lastSeq: 0 }).replace('"lastSeq":0', `"lastSeq":${literal}`);

  it('accepts 2^53 - 1, the largest safe integer', () => {
    const result = parseValidatorMessage(tapWithSeq('9007199254740991'));
    expect(result.ok && result.kind === 'tap' && result.tap.seq).toBe(Number.MAX_SAFE_INTEGER);
    const beat = parseValidatorMessage(heartbeatWithLastSeq('9007199254740991'));
    expect(beat.ok && beat.kind === 'heartbeat' && beat.heartbeat.lastSeq).toBe(Number.MAX_SAFE_INTEGER);
  });

  it.each([
    ['9007199254740992', 'must be <= 9007199254740991'],
    // Parses to the same double as 2^53: refused before it could collide with it.
    ['9007199254740993', 'must be <= 9007199254740991'],
    ['1e300', 'must be <= 9007199254740991'],
    ['1.5', 'expected int'],
    ['-1', 'must be >= 0'],
    ['"12"', 'expected number'],
    ['null', 'expected number'],
  ])('reports INVALID_FIELD for the literal %s', (literal, rule) => {
    expect(parseValidatorMessage(tapWithSeq(literal))).toEqual({
      ok: false,
      reason: 'INVALID_FIELD',
      detail: `seq: ${rule}`,
    });
    expect(parseValidatorMessage(heartbeatWithLastSeq(literal))).toEqual({
      ok: false,
      reason: 'INVALID_FIELD',
      detail: `lastSeq: ${rule}`,
    });
  });
});

describe('parseValidatorMessage: a byte order mark is not JSON', () => {
  const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
  const bomDetail = { ok: false, reason: 'INVALID_JSON', detail: 'value starts with a byte order mark' };

  it('reports INVALID_JSON for a UTF-8 BOM before a valid tap or heartbeat (bytes or string)', () => {
    expect(parseValidatorMessage(Buffer.concat([BOM, Buffer.from(json(tap))]))).toEqual(bomDetail);
    expect(parseValidatorMessage(Buffer.concat([BOM, Buffer.from(json(heartbeat))]))).toEqual(bomDetail);
    expect(parseValidatorMessage(`\ufeff${json(tap)}`)).toEqual(bomDetail);
  });

  it('reports a value that is nothing but a BOM, or a BOM after whitespace, as INVALID_JSON', () => {
    expect(parseValidatorMessage(BOM)).toEqual(bomDetail);
    expect(parseValidatorMessage(Buffer.concat([Buffer.from(' '), BOM, Buffer.from(json(tap))]))).toEqual({
      ok: false,
      reason: 'INVALID_JSON',
      detail: 'value is not UTF-8 JSON',
    });
  });
});

describe('readValidTapV1: the fast path agrees with the zod schema', () => {
  // Values each field may take: valid ones, near misses and wrong types, so random records hit
  // every branch of the fast check and of zod's explanation.
  const pools: Record<string, unknown[]> = {
    schema: ['tap.v1', 'tap.v2', 1],
    validatorId: ['BUS-30412-1', 'A', 'X'.repeat(32), 'X'.repeat(33), '', 'bus-1', 'BUS 1', 7, null],
    seq: [0, 184467, -0, -1, 1.5, 2 ** 53 - 1, 2 ** 53, '12', null],
    cardNo: [
      CARD,
      'abcdef12',
      ' 04123456789012 ',
      'ABCDEF1',
      'A'.repeat(20),
      'A'.repeat(21),
      'G1234567',
      1234,
    ],
    tappedAt: [
      '2020-11-20T08:15:42.120+03:00',
      '2020-11-20T08:15:42Z',
      '2020-11-20T08:15:42',
      '1999-12-31T23:59:59-05:00',
      '2100-01-01T00:00:00Z',
      '2020-02-30T00:00:00Z',
      1605849342120,
    ],
    mode: ['BUS', 'SUBURBAN_RAIL', 'bus', 'CAR', null],
    lineCode: ['202', 'L'.repeat(16), 'L'.repeat(17), '', 'a\u0000b', '\ud800', '😀'.repeat(16), 5],
    vehicleId: ['35-ESH-3041', null, '', 'V'.repeat(33), 'a\u007fb', 3],
    stopCode: ['10345', null, '', 'S'.repeat(32), '\u001f', false],
    result: ['ACCEPTED', 'REJECTED', 'accepted', null],
    rejectReason: [null, 'CARD_BLOCKED', 'OTHER', 'NOPE', 0],
  };
  const fields = Object.keys(pools);
  const record = fc
    .record(
      Object.fromEntries(
        fields.map((f) => {
          const pool = pools[f] ?? [];
          // The SPEC example's value most of the time, so that a good share of records is valid.
          const value = fc.oneof(
            { arbitrary: fc.constant(pool[0]), weight: 12 },
            { arbitrary: fc.constantFrom(...pool), weight: 1 },
          );
          return [f, fc.option(value, { freq: 40, nil: undefined })];
        }),
      ),
    )
    .chain((r) =>
      fc.option(fc.constantFrom('extra', '__proto__'), { freq: 8 }).map((extra) => {
        // undefined leaves the key out; a present null is one of the pools' values.
        const out: Record<string, unknown> = {};
        for (const f of fields) if (r[f] !== undefined) out[f] = r[f];
        if (extra !== null) Object.defineProperty(out, extra, { value: 1, enumerable: true });
        return out;
      }),
    );

  it('accepts only what zod accepts, and returns exactly what zod returns', () => {
    let accepted = 0;
    fc.assert(
      fc.property(record, (value) => {
        const parsed = JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
        const fast = readValidTapV1(parsed);
        const zod = TapV1.safeParse(parsed);
        if (fast !== undefined) {
          accepted++;
          expect(zod.success).toBe(true);
          expect(fast).toStrictEqual(zod.data);
        }
      }),
      { numRuns: 5000 },
    );
    expect(accepted).toBeGreaterThan(100);
  });

  it('takes the SPEC example and a rejected tap, in zod output order', () => {
    for (const value of [tap, { ...tap, result: 'REJECTED', rejectReason: 'HES_RISKY', vehicleId: null }]) {
      const fast = readValidTapV1(JSON.parse(json(value)));
      const zod = TapV1.parse(value);
      expect(fast).toStrictEqual(zod);
      expect(Object.keys(fast ?? {})).toEqual(Object.keys(zod));
    }
  });

  it('leaves a card number in another form, an extra key or a missing key to zod', () => {
    expect(readValidTapV1(JSON.parse(withTap({ cardNo: ' 0412abcdef12 ' })))).toBeUndefined();
    expect(readValidTapV1(JSON.parse(withTap({ extra: 1 })))).toBeUndefined();
    expect(readValidTapV1(JSON.parse(without('stopCode')))).toBeUndefined();
    expect(readValidTapV1(JSON.parse(`{"__proto__":1,${withTap({}).slice(1)}`))).toBeUndefined();
  });
});
