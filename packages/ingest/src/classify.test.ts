import { serviceDayOf, VALIDATOR_TAPS_TOPIC } from '@boarding/contracts/tap';
import { MAX_CLOCK_AHEAD_MS } from '@boarding/contracts/time';
import { type HostileCase, hostileMessages } from '@boarding/testing/hostile-messages';
import { type Classified, type ClassifyOptions, classifyBatch, type IngestMessage } from './classify';

// The SPEC defaults (classifyOptionsFor with MAX_TAP_AGE_DAYS = 7), which the catalogue assumes.
const options: ClassifyOptions = {
  topic: VALIDATOR_TAPS_TOPIC,
  maxFutureMs: MAX_CLOCK_AHEAD_MS,
  maxAgeMs: 7 * 86_400_000,
};

const VALIDATOR = 'BUS-30412-1';
const CARD = '0412345678901234';
const FIRST_SEQ = 1000;
const TIMESTAMP = Date.parse('2020-11-20T09:00:00.000+03:00');
const catalogue = hostileMessages({
  validatorId: VALIDATOR,
  firstSeq: FIRST_SEQ,
  timestamp: TIMESTAMP,
  cardNo: CARD,
});

const bytes = (data: string | Buffer | null): Buffer | null =>
  typeof data === 'string' ? Buffer.from(data, 'utf8') : data;

function message(c: HostileCase, offset: number): IngestMessage {
  return { partition: 0, offset, timestamp: c.timestamp, key: bytes(c.key), value: bytes(c.value) };
}

// A dead letter's reason is a plain string in the store's row.
type Landing = { kind: 'tap'; seq: number } | { kind: 'heartbeat' } | { kind: 'dead-letter'; reason: string };

/** Where the message at `offset` landed, in the catalogue's terms. */
function landing(result: Classified, offset: number): Landing[] {
  return [
    ...result.taps.filter((t) => t.offset === offset).map((t) => ({ kind: 'tap' as const, seq: t.seq })),
    ...result.heartbeats.filter((h) => h.offset === offset).map(() => ({ kind: 'heartbeat' as const })),
    ...result.deadLetters
      .filter((d) => d.offset === offset)
      .map((d) => ({ kind: 'dead-letter' as const, reason: d.reason })),
  ];
}

describe('the hostile message catalogue', () => {
  it('holds at least 35 cases with unique names, all keyed by the validator under test', () => {
    const names = catalogue.cases.map((c) => c.name);
    expect(names.length).toBeGreaterThanOrEqual(35);
    expect(new Set(names).size).toBe(names.length);
    for (const c of catalogue.cases) expect(c.key).toBe(VALIDATOR);
  });

  it('gives every case expected to be stored its own fresh seq, firstSeq upward', () => {
    const seqs = catalogue.cases.flatMap((c) => (c.expect.kind === 'tap' ? [c.expect.seq] : []));
    expect(seqs).toEqual(Array.from({ length: catalogue.seqsUsed }, (_, i) => FIRST_SEQ + i));
  });

  it('refuses options that would make its valid cases invalid', () => {
    const good = { validatorId: VALIDATOR, firstSeq: 0, timestamp: TIMESTAMP, cardNo: CARD };
    expect(() => hostileMessages({ ...good, validatorId: 'bus-1' })).toThrow(RangeError);
    expect(() => hostileMessages({ ...good, cardNo: 'nope' })).toThrow(RangeError);
    expect(() => hostileMessages({ ...good, firstSeq: -1 })).toThrow(RangeError);
    expect(() => hostileMessages({ ...good, timestamp: Date.parse('2099-06-01T00:00:00Z') })).toThrow(
      RangeError,
    );
  });
});

describe('classifyBatch on the hostile catalogue', () => {
  it.each(catalogue.cases.map((c) => [c.name, c] as const))(
    'puts %s where the catalogue says',
    (_name, c) => {
      expect(landing(classifyBatch([message(c, 7)], options), 7)).toEqual([c.expect]);
    },
  );

  it('accounts for every message of the whole catalogue in one batch exactly once, in order', () => {
    const messages = catalogue.cases.map((c, i) => message(c, i));
    const result = classifyBatch(messages, options);
    expect(result.taps.length + result.heartbeats.length + result.deadLetters.length).toBe(messages.length);
    catalogue.cases.forEach((c, i) => {
      expect({ name: c.name, landed: landing(result, i) }).toEqual({ name: c.name, landed: [c.expect] });
    });
    const inOrder = (rows: { offset: number }[]): number[] => rows.map((r) => r.offset);
    expect(inOrder(result.deadLetters)).toEqual([...inOrder(result.deadLetters)].sort((a, b) => a - b));
    expect(inOrder(result.taps)).toEqual([...inOrder(result.taps)].sort((a, b) => a - b));
  });

  it('keeps the raw bytes and Kafka coordinates of every dead letter, and nothing of the value in its detail', () => {
    const messages = catalogue.cases.map((c, i) => message(c, i));
    const { deadLetters } = classifyBatch(messages, options);
    for (const d of deadLetters) {
      const m = messages[d.offset];
      expect(m).toBeDefined();
      expect(d).toMatchObject({ topic: VALIDATOR_TAPS_TOPIC, partition: 0, timestamp: TIMESTAMP });
      expect(d.value).toEqual(m?.value);
      expect(d.key).toEqual(m?.key);
      expect(d.detail).not.toContain(CARD);
      // Nothing hostile travels into the logged detail: no controls, no lone surrogates.
      expect(d.detail).not.toMatch(/\p{Cc}/u);
      expect(Buffer.from(d.detail, 'utf8').toString('utf8')).toBe(d.detail);
    }
  });

  it('stores text as sent: Turkish letters and emoji kept, the card number normalised', () => {
    const messages = catalogue.cases.map((c, i) => message(c, i));
    const { taps } = classifyBatch(messages, options);
    const byName = (name: string) => taps.find((t) => catalogue.cases[t.offset]?.name === name);
    expect(byName('tap-turkish-text-in-line-and-stop')).toMatchObject({
      lineCode: 'Üçyol-Şirinyer',
      stopCode: 'Fahrettin Altay İskelesi',
    });
    expect(byName('tap-line-code-of-16-emoji')?.lineCode).toBe('🚌'.repeat(16));
    expect(byName('tap-card-no-lower-case-with-spaces')?.cardNo).toBe(CARD);
    expect(byName('tap-every-string-written-as-unicode-escapes')).toMatchObject({
      cardNo: CARD,
      validatorId: VALIDATOR,
      lineCode: '202',
    });
  });
});

// Messages written by hand to pin the clock rule's edges (the catalogue keeps well inside them).
const AT = (offsetMs: number): string =>
  new Date(TIMESTAMP + offsetMs + 3 * 3_600_000).toISOString().replace('Z', '+03:00');
const heartbeat = (atOffsetMs: number) =>
  JSON.stringify({ schema: 'heartbeat.v1', validatorId: VALIDATOR, lastSeq: 42, at: AT(atOffsetMs) });
const tap = (tappedAtOffsetMs: number) =>
  JSON.stringify({
    schema: 'tap.v1',
    validatorId: VALIDATOR,
    seq: 42,
    cardNo: CARD,
    tappedAt: AT(tappedAtOffsetMs),
    mode: 'BUS',
    lineCode: '202',
    vehicleId: '35-ESH-3041',
    stopCode: null,
    result: 'ACCEPTED',
    rejectReason: null,
  });
const classifyOne = (value: string): Classified =>
  classifyBatch(
    [
      {
        partition: 2,
        offset: 99,
        timestamp: TIMESTAMP,
        key: Buffer.from(VALIDATOR),
        value: Buffer.from(value),
      },
    ],
    options,
  );

describe('classifyBatch: the clock rules on heartbeats', () => {
  it('keeps a heartbeat exactly 10 minutes ahead or exactly the maximum age behind, with its row as before', () => {
    for (const offset of [MAX_CLOCK_AHEAD_MS, -options.maxAgeMs]) {
      expect(classifyOne(heartbeat(offset))).toEqual({
        taps: [],
        deadLetters: [],
        heartbeats: [
          {
            validatorId: VALIDATOR,
            lastSeq: 42,
            at: TIMESTAMP + offset,
            partition: 2,
            offset: 99,
            timestamp: TIMESTAMP,
          },
        ],
      });
    }
  });

  it('dead-letters a heartbeat more than 10 minutes ahead as CLOCK_DRIFT_FUTURE, on the service day of its at', () => {
    const value = heartbeat(MAX_CLOCK_AHEAD_MS + 1);
    expect(classifyOne(value)).toEqual({
      taps: [],
      heartbeats: [],
      deadLetters: [
        {
          topic: VALIDATOR_TAPS_TOPIC,
          partition: 2,
          offset: 99,
          timestamp: TIMESTAMP,
          key: Buffer.from(VALIDATOR),
          value: Buffer.from(value),
          reason: 'CLOCK_DRIFT_FUTURE',
          detail: 'at is 10 min after the message timestamp',
          validatorId: VALIDATOR,
          seq: null,
          serviceDay: serviceDayOf(TIMESTAMP + MAX_CLOCK_AHEAD_MS + 1),
        },
      ],
    });
  });

  it('dead-letters a heartbeat more than the maximum age behind as TAP_TOO_OLD, on the service day of its at', () => {
    const { deadLetters, heartbeats } = classifyOne(heartbeat(-options.maxAgeMs - 1));
    expect(heartbeats).toEqual([]);
    expect(deadLetters).toMatchObject([
      {
        reason: 'TAP_TOO_OLD',
        detail: 'at is 7.0 days before the message timestamp',
        validatorId: VALIDATOR,
        seq: null,
        serviceDay: '2020-11-13',
      },
    ]);
  });

  it('judges a far-future heartbeat by the message timestamp, not the wall clock (a replay agrees)', () => {
    const value = JSON.stringify({
      schema: 'heartbeat.v1',
      validatorId: VALIDATOR,
      lastSeq: 42,
      at: '2099-06-01T00:00:00.000+03:00',
    });
    expect(classifyOne(value).deadLetters).toMatchObject([
      { reason: 'CLOCK_DRIFT_FUTURE', serviceDay: '2099-06-01', seq: null },
    ]);
  });
});

describe('classifyBatch: the clock rules on taps', () => {
  it('keeps a tap exactly at either edge', () => {
    expect(classifyOne(tap(MAX_CLOCK_AHEAD_MS)).taps).toHaveLength(1);
    expect(classifyOne(tap(-options.maxAgeMs)).taps).toHaveLength(1);
  });

  it('dead-letters a tap one millisecond past either edge, with its validator, seq and service day', () => {
    expect(classifyOne(tap(MAX_CLOCK_AHEAD_MS + 1)).deadLetters).toMatchObject([
      {
        reason: 'CLOCK_DRIFT_FUTURE',
        detail: 'tappedAt is 10 min after the message timestamp',
        validatorId: VALIDATOR,
        seq: 42,
        serviceDay: '2020-11-20',
      },
    ]);
    expect(classifyOne(tap(-options.maxAgeMs - 1)).deadLetters).toMatchObject([
      {
        reason: 'TAP_TOO_OLD',
        detail: 'tappedAt is 7.0 days before the message timestamp',
        validatorId: VALIDATOR,
        seq: 42,
        serviceDay: '2020-11-13',
      },
    ]);
  });

  it('dead-letters an unparsable message on the service day of its message timestamp, knowing no validator', () => {
    expect(classifyOne('{').deadLetters).toMatchObject([
      { reason: 'INVALID_JSON', validatorId: null, seq: null, serviceDay: '2020-11-20' },
    ]);
  });
});
