import type { ReasonCode } from '@boarding/contracts/reasons';
import { MAX_MESSAGE_BYTES } from '@boarding/contracts/tap';

/** Where a message must land: a stored tap with this seq, a heartbeat, or a dead letter. */
export type HostileExpectation =
  | { kind: 'dead-letter'; reason: ReasonCode }
  | { kind: 'tap'; seq: number }
  | { kind: 'heartbeat' };

export type HostileCase = {
  /** Unique, kebab-case: names the hostile shape, so a failing test says which one. */
  name: string;
  key: string | Buffer | null;
  /** As produced to Kafka: a string is sent as its UTF-8 bytes, a Buffer byte for byte. */
  value: string | Buffer | null;
  /** Kafka message timestamp, epoch ms: the clock rules are judged against it. */
  timestamp: number;
  expect: HostileExpectation;
};

export type HostileOptions = {
  /** The key of every case and the validatorId of every valid one: the validator under test. */
  validatorId: string;
  /** Cases that are stored take fresh seqs from here upward, one each. */
  firstSeq: number;
  /** Every case's message timestamp. */
  timestamp: number;
  /** A normalised card number (8–20 of 0-9 A-F) for the taps. */
  cardNo: string;
};

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const ISTANBUL_MINUTES = 180;
// Placeholders no generated text holds otherwise: raw JSON text, and bytes no JS string encodes to.
const RAW = '@@RAW@@';
const BYTES = '@@BYTES@@';

/**
 * A catalogue of hostile and edge messages for one validator (SPEC §2), each with where the
 * ingest must put it, for integration tests that interleave them with valid taps of the same
 * key (hence the same partition, in order).
 *
 * - Cases expected to be stored as taps use fresh seqs `firstSeq … firstSeq + seqsUsed − 1`
 *   (a seq another tap used would turn them into SEQ_CONFLICT); dead-letter cases reuse
 *   `firstSeq`, harmless because nothing dead-lettered reaches the tap store. The one valid
 *   heartbeat reports `lastSeq = firstSeq + seqsUsed − 1`.
 * - Stored taps are written between one minute before the timestamp and ten minutes after it,
 *   so with a timestamp near midnight (UTC+3) some fall on the neighbouring service day.
 * - The clock cases assume the SPEC defaults: 10 minutes ahead, MAX_TAP_AGE_DAYS = 7.
 */
export function hostileMessages(options: HostileOptions): { cases: HostileCase[]; seqsUsed: number } {
  assertUsable(options);
  const { validatorId, firstSeq, timestamp, cardNo } = options;
  const cases: HostileCase[] = [];
  let seqsUsed = 0;
  const freshSeq = (): number => firstSeq + seqsUsed++;
  const add = (name: string, value: string | Buffer | null, expect: HostileExpectation): void => {
    cases.push({ name, key: validatorId, value, timestamp, expect });
  };
  const stored = (name: string, build: (seq: number) => string | Buffer): void => {
    const seq = freshSeq();
    add(name, build(seq), { kind: 'tap', seq });
  };
  const dead = (name: string, value: string | Buffer | null, reason: ReasonCode): void => {
    add(name, value, { kind: 'dead-letter', reason });
  };

  const tappedAtMs = timestamp - MINUTE_MS;
  const tap = (patch: Record<string, unknown> = {}, seq = firstSeq): Record<string, unknown> => ({
    schema: 'tap.v1',
    validatorId,
    seq,
    cardNo,
    tappedAt: writeInstant(tappedAtMs, ISTANBUL_MINUTES),
    mode: 'BUS',
    lineCode: '202',
    vehicleId: '35-ESH-3041',
    stopCode: '10345',
    result: 'ACCEPTED',
    rejectReason: null,
    ...patch,
  });
  const tapText = (patch: Record<string, unknown> = {}, seq = firstSeq): string =>
    JSON.stringify(tap(patch, seq));
  const heartbeatText = (patch: Record<string, unknown>): string =>
    JSON.stringify({
      schema: 'heartbeat.v1',
      validatorId,
      lastSeq: firstSeq,
      at: writeInstant(timestamp - MINUTE_MS, ISTANBUL_MINUTES),
      ...patch,
    });
  // A field written as raw JSON text, for numbers JSON.stringify cannot spell (2^53 + 1, 1e300).
  const withRaw = (text: string, raw: string): string => text.replace(`"${RAW}"`, raw);
  // Bytes spliced into a string field where `${BYTES}` stands, for encodings no JS string makes.
  const withBytes = (text: string, bytes: number[]): Buffer => {
    const at = text.indexOf(BYTES);
    return Buffer.concat([
      Buffer.from(text.slice(0, at)),
      Buffer.from(bytes),
      Buffer.from(text.slice(at + BYTES.length)),
    ]);
  };

  // ── Stored: odd-looking but valid, each with its own seq ──────────────────────────────────
  stored('tap-padded-with-json-whitespace-to-exactly-16384-bytes', (seq) =>
    padToBytes(tapText({}, seq), MAX_MESSAGE_BYTES),
  );
  stored('tap-turkish-text-in-line-and-stop', (seq) =>
    tapText({ lineCode: 'Üçyol-Şirinyer', stopCode: 'Fahrettin Altay İskelesi' }, seq),
  );
  // 16 code points but 32 UTF-16 units: lengths are counted in code points (contracts README).
  stored('tap-line-code-of-16-emoji', (seq) => tapText({ lineCode: '🚌'.repeat(16) }, seq));
  stored('tap-line-code-16-and-stop-code-32-characters', (seq) =>
    tapText({ lineCode: 'L'.repeat(16), stopCode: 'S'.repeat(32) }, seq),
  );
  stored('tap-tapped-at-without-milliseconds', (seq) =>
    tapText({ tappedAt: writeInstant(tappedAtMs - (tappedAtMs % 1000), ISTANBUL_MINUTES, false) }, seq),
  );
  stored('tap-tapped-at-in-utc-z', (seq) => tapText({ tappedAt: new Date(tappedAtMs).toISOString() }, seq));
  stored('tap-tapped-at-with-negative-half-hour-offset', (seq) =>
    tapText({ tappedAt: writeInstant(tappedAtMs, -150) }, seq),
  );
  // The rule is "more than 10 minutes after": exactly 10 minutes is kept.
  stored('tap-tapped-at-exactly-10-min-after-timestamp', (seq) =>
    tapText({ tappedAt: writeInstant(timestamp + 10 * MINUTE_MS, ISTANBUL_MINUTES) }, seq),
  );
  stored('tap-card-no-lower-case-with-spaces', (seq) =>
    tapText({ cardNo: ` ${cardNo.toLowerCase()} ` }, seq),
  );
  stored('tap-rejected-with-reason', (seq) =>
    tapText({ result: 'REJECTED', rejectReason: 'HES_RISKY' }, seq),
  );
  stored('tap-stop-code-only', (seq) => tapText({ vehicleId: null }, seq));
  stored('tap-vehicle-id-only', (seq) => tapText({ stopCode: null }, seq));
  stored('tap-every-string-written-as-unicode-escapes', (seq) => escapeEveryString(tap({}, seq)));
  stored('tap-keys-reversed-and-pretty-printed-with-crlf', (seq) =>
    JSON.stringify(Object.fromEntries(Object.entries(tap({}, seq)).reverse()), null, '\t').replace(
      /\n/g,
      '\r\n',
    ),
  );
  // JSON.parse keeps the last of two equal keys; RFC 8259 leaves duplicates to the parser.
  stored('tap-duplicate-seq-key-last-wins', (seq) => `{"seq":-1,${tapText({}, seq).slice(1)}`);
  // A JSON number is its value: 12.0 is the integer 12.
  stored('tap-seq-written-with-zero-fraction', (seq) => withRaw(tapText({ seq: RAW }), `${seq}.0`));

  // ── Bytes that are not UTF-8, or not JSON ────────────────────────────────────────────────
  const inLine = tapText({ lineCode: `2${BYTES}2` });
  dead('utf8-lone-continuation-byte', withBytes(inLine, [0x80]), 'INVALID_JSON');
  dead('utf8-overlong-slash', withBytes(inLine, [0xc0, 0xaf]), 'INVALID_JSON');
  dead('utf8-overlong-nul-modified-utf8', withBytes(inLine, [0xc0, 0x80]), 'INVALID_JSON');
  dead('utf8-truncated-multibyte-before-quote', withBytes(inLine, [0xe2, 0x82]), 'INVALID_JSON');
  dead('utf8-encoded-surrogate-ed-a0-80', withBytes(inLine, [0xed, 0xa0, 0x80]), 'INVALID_JSON');
  dead('utf8-cesu-8-surrogate-pair', withBytes(inLine, [0xed, 0xa0, 0xbd, 0xed, 0xba, 0x8c]), 'INVALID_JSON');
  dead('utf8-beyond-u-10ffff', withBytes(inLine, [0xf4, 0x90, 0x80, 0x80]), 'INVALID_JSON');
  dead('latin5-encoded-turkish-letter', withBytes(inLine, [0xde]), 'INVALID_JSON');
  dead(
    'utf8-truncated-at-end-of-value',
    Buffer.concat([Buffer.from(tapText()), Buffer.from([0xf0, 0x9f, 0x9a])]),
    'INVALID_JSON',
  );
  dead('utf16le-with-bom', Buffer.from(`\ufeff${tapText()}`, 'utf16le'), 'INVALID_JSON');
  dead(
    'utf8-byte-order-mark-before-tap',
    Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(tapText())]),
    'INVALID_JSON',
  );
  dead('raw-control-byte-inside-json-string', withBytes(inLine, [0x01]), 'INVALID_JSON');
  dead('truncated-json', tapText().slice(0, 60), 'INVALID_JSON');
  dead('two-json-objects-in-one-value', `${tapText()}\n${tapText()}`, 'INVALID_JSON');
  dead('whitespace-only', ' \t\r\n ', 'INVALID_JSON');

  // ── Not printable (SPEC §2): JSON escapes, so the bytes themselves are ASCII ─────────────
  for (const [field, label, control, controlName] of [
    ['lineCode', 'line-code', '\u001b', 'escape'],
    ['vehicleId', 'vehicle-id', '\n', 'newline'],
    ['stopCode', 'stop-code', '\t', 'tab'],
  ] as const) {
    dead(`${label}-with-nul`, tapText({ [field]: 'A\u0000B' }), 'INVALID_FIELD');
    dead(`${label}-with-${controlName}`, tapText({ [field]: `A${control}B` }), 'INVALID_FIELD');
    dead(`${label}-with-del`, tapText({ [field]: 'A\u007fB' }), 'INVALID_FIELD');
  }
  dead('line-code-lone-high-surrogate-escape', tapText({ lineCode: '2\ud8002' }), 'INVALID_FIELD');
  dead('stop-code-lone-low-surrogate-escape', tapText({ stopCode: '1\udc00' }), 'INVALID_FIELD');
  dead('vehicle-id-reversed-surrogate-pair', tapText({ vehicleId: 'V\ude8c\ud83d' }), 'INVALID_FIELD');
  dead('card-no-with-nul', tapText({ cardNo: `${cardNo}\u0000` }), 'CARD_NO_INVALID');
  dead('validator-id-with-nul', tapText({ validatorId: `${validatorId}\u0000` }), 'INVALID_FIELD');

  // ── tappedAt ──────────────────────────────────────────────────────────────────────────────
  dead('tapped-at-year-0000', tapText({ tappedAt: '0000-11-20T08:15:42.120+03:00' }), 'INVALID_FIELD');
  // Its instant is in 2000 UTC, but the year written is judged.
  dead('tapped-at-year-1999', tapText({ tappedAt: '1999-12-31T23:59:59-05:00' }), 'INVALID_FIELD');
  dead('tapped-at-year-2100', tapText({ tappedAt: '2100-01-01T01:00:00+03:00' }), 'INVALID_FIELD');
  dead('tapped-at-30-february', tapText({ tappedAt: '2020-02-30T08:15:42.120+03:00' }), 'TIME_INVALID');
  dead('tapped-at-hour-24', tapText({ tappedAt: '2020-11-20T24:00:00+03:00' }), 'TIME_INVALID');
  dead('tapped-at-offset-plus-25-hours', tapText({ tappedAt: '2020-11-20T08:15:42+25:00' }), 'TIME_INVALID');
  dead('tapped-at-microseconds', tapText({ tappedAt: '2020-11-20T08:15:42.120123+03:00' }), 'TIME_INVALID');
  dead(
    'tapped-at-without-offset',
    tapText({ tappedAt: writeInstant(tappedAtMs, ISTANBUL_MINUTES).slice(0, 23) }),
    'TIME_NO_OFFSET',
  );
  dead('tapped-at-as-epoch-number', tapText({ tappedAt: tappedAtMs }), 'INVALID_FIELD');

  // ── seq ───────────────────────────────────────────────────────────────────────────────────
  dead('seq-as-string', tapText({ seq: String(firstSeq) }), 'INVALID_FIELD');
  dead('seq-fraction', tapText({ seq: firstSeq + 0.5 }), 'INVALID_FIELD');
  dead('seq-negative', tapText({ seq: -1 }), 'INVALID_FIELD');
  dead('seq-2-pow-53', withRaw(tapText({ seq: RAW }), '9007199254740992'), 'INVALID_FIELD');
  dead('seq-2-pow-53-plus-1', withRaw(tapText({ seq: RAW }), '9007199254740993'), 'INVALID_FIELD');
  dead('seq-1e300', withRaw(tapText({ seq: RAW }), '1e300'), 'INVALID_FIELD');
  dead('seq-null', tapText({ seq: null }), 'INVALID_FIELD');

  // ── Values that are not a tap object ─────────────────────────────────────────────────────
  dead('tombstone-null-value', null, 'EMPTY_VALUE');
  dead('empty-value', Buffer.alloc(0), 'EMPTY_VALUE');
  dead('json-array-holding-a-tap', `[${tapText()}]`, 'NOT_AN_OBJECT');
  dead('json-string-literal', '"tap.v1"', 'NOT_AN_OBJECT');
  dead('json-number-literal', '184467', 'NOT_AN_OBJECT');
  dead('json-null-literal', 'null', 'NOT_AN_OBJECT');
  dead('json-true-literal', 'true', 'NOT_AN_OBJECT');
  const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
  dead('5000-nested-arrays-in-unknown-field', withRaw(tapText({ nested: RAW }), deep), 'UNKNOWN_FIELD');
  dead('5000-nested-arrays-as-line-code', withRaw(tapText({ lineCode: RAW }), deep), 'INVALID_FIELD');
  dead('oversized-by-one-byte', padToBytes(tapText(), MAX_MESSAGE_BYTES + 1), 'OVERSIZED');

  // ── Contract violations ──────────────────────────────────────────────────────────────────
  dead('schema-unknown-version', tapText({ schema: 'tap.v2' }), 'UNKNOWN_SCHEMA');
  dead('schema-upper-case', tapText({ schema: 'TAP.V1' }), 'UNKNOWN_SCHEMA');
  dead('schema-missing', JSON.stringify({ ...tap(), schema: undefined }), 'UNKNOWN_SCHEMA');
  dead('unknown-extra-field', tapText({ chipUid: '04A1B2C3D4E5F6' }), 'UNKNOWN_FIELD');
  dead('proto-key', `{"__proto__":{"polluted":true},${tapText().slice(1)}`, 'UNKNOWN_FIELD');
  dead('missing-required-line-code', JSON.stringify({ ...tap(), lineCode: undefined }), 'INVALID_FIELD');
  dead('mode-not-in-enum', tapText({ mode: 'TAXI' }), 'INVALID_FIELD');
  dead('reject-reason-on-accepted-tap', tapText({ rejectReason: 'OTHER' }), 'REJECT_REASON_MISMATCH');
  dead('rejected-tap-without-reason', tapText({ result: 'REJECTED' }), 'REJECT_REASON_MISMATCH');
  dead('neither-vehicle-nor-stop', tapText({ vehicleId: null, stopCode: null }), 'NO_VEHICLE_OR_STOP');
  dead('line-code-17-characters', tapText({ lineCode: 'L'.repeat(17) }), 'INVALID_FIELD');
  dead('line-code-empty', tapText({ lineCode: '' }), 'INVALID_FIELD');

  // ── Clock rules, judged against the message timestamp ────────────────────────────────────
  dead(
    'tap-tapped-at-11-min-after-timestamp',
    tapText({ tappedAt: writeInstant(timestamp + 11 * MINUTE_MS, ISTANBUL_MINUTES) }),
    'CLOCK_DRIFT_FUTURE',
  );
  dead(
    'tap-tapped-at-8-days-before-timestamp',
    tapText({ tappedAt: writeInstant(timestamp - 8 * DAY_MS, ISTANBUL_MINUTES) }),
    'TAP_TOO_OLD',
  );

  // ── Heartbeats ───────────────────────────────────────────────────────────────────────────
  dead('heartbeat-at-year-0000', heartbeatText({ at: '0000-01-01T00:00:00.000+03:00' }), 'INVALID_FIELD');
  dead('heartbeat-at-in-2099', heartbeatText({ at: '2099-06-01T00:00:00.000+03:00' }), 'CLOCK_DRIFT_FUTURE');
  dead(
    'heartbeat-at-30-days-before-timestamp',
    heartbeatText({ at: writeInstant(timestamp - 30 * DAY_MS, ISTANBUL_MINUTES) }),
    'TAP_TOO_OLD',
  );
  dead('heartbeat-last-seq-negative', heartbeatText({ lastSeq: -1 }), 'INVALID_FIELD');
  dead(
    'heartbeat-last-seq-2-pow-53',
    withRaw(heartbeatText({ lastSeq: RAW }), '9007199254740992'),
    'INVALID_FIELD',
  );
  dead('heartbeat-last-seq-as-string', heartbeatText({ lastSeq: String(firstSeq) }), 'INVALID_FIELD');
  dead('heartbeat-with-a-tap-field', heartbeatText({ seq: firstSeq }), 'UNKNOWN_FIELD');
  // Last, once every stored seq is known: the validator has recorded them all by now.
  add('heartbeat-valid', heartbeatText({ lastSeq: firstSeq + seqsUsed - 1 }), { kind: 'heartbeat' });

  return { cases, seqsUsed };
}

function assertUsable({ validatorId, firstSeq, timestamp, cardNo }: HostileOptions): void {
  if (!/^[A-Z0-9-]{1,32}$/.test(validatorId)) throw new RangeError('validatorId must be 1-32 of A-Z 0-9 -');
  if (!/^[0-9A-F]{8,20}$/.test(cardNo)) throw new RangeError('cardNo must be 8-20 of 0-9 A-F');
  if (!Number.isSafeInteger(firstSeq) || firstSeq < 0)
    throw new RangeError('firstSeq must be a safe integer >= 0');
  // Every valid instant must be written in 2000–2099 and the 2099 heartbeat must be ahead.
  if (!(timestamp >= Date.UTC(2000, 1, 1) && timestamp < Date.UTC(2099, 0, 1))) {
    throw new RangeError('timestamp must lie in February 2000 … 2098');
  }
}

/** `ms` written as local time at `offsetMinutes` with that offset, as a validator writes it. */
function writeInstant(ms: number, offsetMinutes: number, millis = true): string {
  const local = new Date(ms + offsetMinutes * MINUTE_MS).toISOString().slice(0, millis ? 23 : 19);
  const abs = Math.abs(offsetMinutes);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `${local}${offsetMinutes < 0 ? '-' : '+'}${hh}:${mm}`;
}

/** `json` grown to exactly `bytes` UTF-8 bytes with JSON whitespace around it. */
function padToBytes(json: string, bytes: number): string {
  const missing = bytes - Buffer.byteLength(json);
  if (missing < 2) throw new RangeError('padToBytes: the value is already too long');
  const tail = ' \t\r\n'.repeat(Math.ceil(missing / 4)).slice(0, missing - 2);
  return `\r\n${json}${tail}`;
}

/** A flat object as JSON with every character of every key and string value as a \uXXXX escape. */
function escapeEveryString(record: Record<string, unknown>): string {
  const escapeAll = (text: string): string => {
    let out = '"';
    for (let i = 0; i < text.length; i++) out += `\\u${text.charCodeAt(i).toString(16).padStart(4, '0')}`;
    return `${out}"`;
  };
  const members = Object.entries(record).map(
    ([key, value]) =>
      `${escapeAll(key)}:${typeof value === 'string' ? escapeAll(value) : JSON.stringify(value)}`,
  );
  return `{${members.join(',')}}`;
}
