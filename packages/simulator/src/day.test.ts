import { createHash } from 'node:crypto';
import { type Match, parseImportRow } from '@boarding/contracts/match';
import { parseValidatorMessage, serviceDayOf } from '@boarding/contracts/tap';
import { type DayOptions, generateDay, planDay, type SimMessage } from './day';
import { registryRowLine } from './registry-csv';
import type { RegistryRow } from './registry-model';
import { type DayTruth, DEFAULT_FAULT_RATES, MALFORMED_KINDS } from './truth';

const DAY = '2020-11-20';
const DAY_START = Date.parse('2020-11-19T21:00:00Z');
const DAY_END = DAY_START + 86_400_000;
const MINUTE = 60_000;

// Fault rates ten times the defaults, so a 20,000-tap day has every fault many times over.
const MANY_FAULTS = {
  duplicates: 0.05,
  late: 0.05,
  outOfOrder: 0.03,
  drift: 0.01,
  resets: 0.005,
  malformed: 0.005,
};
const day = generateDay({ day: DAY, taps: 20_000, seed: 7, faults: MANY_FAULTS });

function digest(messages: readonly SimMessage[]): string {
  const hash = createHash('sha256');
  for (const m of messages) hash.update(`${m.key}\u0000${m.value}\u0000${m.timestamp}\n`);
  return hash.digest('hex');
}

type ParsedTap = {
  message: SimMessage;
  ts: number;
  validatorId: string;
  seq: number;
  cardNo: string;
  ms: number;
};

/** Valid taps in production order, first copies only (a repeat has the same value). */
function firstTaps(messages: readonly SimMessage[]): ParsedTap[] {
  const seen = new Set<string>();
  const out: ParsedTap[] = [];
  for (const message of messages) {
    const parsed = parseValidatorMessage(message.value);
    if (!parsed.ok || parsed.kind !== 'tap' || seen.has(message.value)) continue;
    seen.add(message.value);
    const { validatorId, seq, cardNo, tappedAtMs } = parsed.tap;
    out.push({ message, ts: Number(message.timestamp), validatorId, seq, cardNo, ms: tappedAtMs });
  }
  return out;
}

function parseRows(rows: readonly RegistryRow[]): Match[] {
  const header = ['card_no', 'tc_kimlik_no', 'hes_code', 'card_kind', 'valid_from', 'valid_to'];
  return rows.map((row, i) => {
    const cells = registryRowLine(row).split(',');
    const parsed = parseImportRow(Object.fromEntries(header.map((h, c) => [h, cells[c] ?? ''])));
    if (!parsed.ok) throw new Error(`row ${i}: ${parsed.reason} ${parsed.detail}`);
    return parsed.row;
  });
}

/**
 * A reference ingest written from SPEC §2 alone: it reads the messages in production order and
 * the registry file, and says what must be stored, dropped as duplicate and dead-lettered.
 */
function judge(messages: readonly SimMessage[], rows: readonly RegistryRow[]) {
  const matches = new Map<string, Match[]>();
  for (const match of parseRows(rows)) {
    const list = matches.get(match.cardNo) ?? [];
    list.push(match);
    matches.set(match.cardNo, list);
  }
  const hasMatch = (cardNo: string, ms: number) =>
    (matches.get(cardNo) ?? []).some(
      (m) => m.validFrom.getTime() <= ms && (m.validTo === null || ms < m.validTo.getTime()),
    );
  const stored = new Map<string, { cardNo: string; ms: number }>();
  const deadLettered: Record<string, number> = {};
  const dead = (reason: string) => {
    deadLettered[reason] = (deadLettered[reason] ?? 0) + 1;
  };
  let duplicates = 0;
  let matched = 0;
  // Stored taps by a card with registry rows, none of which holds the tap's instant.
  let outsideTheirMatches = 0;
  let rejected = 0;
  let heartbeats = 0;
  for (const message of messages) {
    const parsed = parseValidatorMessage(message.value);
    if (!parsed.ok) {
      dead(parsed.reason);
      continue;
    }
    if (parsed.kind === 'heartbeat') {
      heartbeats++;
      continue;
    }
    const { tap } = parsed;
    const ts = Number(message.timestamp);
    if (tap.tappedAtMs > ts + 10 * MINUTE) {
      dead('CLOCK_DRIFT_FUTURE');
      continue;
    }
    if (tap.tappedAtMs < ts - 7 * 86_400_000) {
      dead('TAP_TOO_OLD');
      continue;
    }
    const key = `${tap.validatorId}/${tap.seq}`;
    const first = stored.get(key);
    if (first) {
      if (first.cardNo === tap.cardNo && first.ms === tap.tappedAtMs) duplicates++;
      else dead('SEQ_CONFLICT');
      continue;
    }
    stored.set(key, { cardNo: tap.cardNo, ms: tap.tappedAtMs });
    if (hasMatch(tap.cardNo, tap.tappedAtMs)) matched++;
    else if (matches.has(tap.cardNo)) outsideTheirMatches++;
    if (tap.result === 'REJECTED') rejected++;
  }
  return {
    stored: stored.size,
    duplicates,
    deadLettered,
    matched,
    outsideTheirMatches,
    rejected,
    heartbeats,
  };
}

describe('generateDay: determinism', () => {
  const options: DayOptions = { day: DAY, taps: 3_000, seed: 42 };

  it('gives the same messages (keys, values, timestamps, order) and registry for the same seed', () => {
    const a = generateDay(options);
    const b = generateDay(options);
    expect(digest(b.messages)).toBe(digest(a.messages));
    expect(b.registryRows).toEqual(a.registryRows);
    expect(b.truth).toEqual(a.truth);
  });

  it('gives another day for another seed or another date', () => {
    const a = digest(generateDay(options).messages);
    expect(digest(generateDay({ ...options, seed: 43 }).messages)).not.toBe(a);
    expect(digest(generateDay({ ...options, day: '2020-11-21' }).messages)).not.toBe(a);
  });

  it('streams the same messages as it builds in memory, and can resume at any position', () => {
    const plan = planDay(options);
    const all = [...plan.messages()];
    expect(digest(all)).toBe(digest(generateDay(options).messages));
    expect(all).toHaveLength(plan.messageCount);
    expect([...plan.messages(1_000)]).toEqual(all.slice(1_000));
  });
});

describe('generateDay: messages', () => {
  it('makes every message but the malformed ones valid per parseValidatorMessage', () => {
    const failures: Record<string, number> = {};
    let taps = 0;
    let heartbeats = 0;
    for (const m of day.messages) {
      const parsed = parseValidatorMessage(m.value);
      if (!parsed.ok) failures[parsed.reason] = (failures[parsed.reason] ?? 0) + 1;
      else if (parsed.kind === 'tap') taps++;
      else heartbeats++;
    }
    expect(failures).toEqual(day.truth.malformed);
    expect(taps).toBe(day.truth.taps);
    expect(heartbeats).toBe(day.truth.heartbeats);
    expect(day.messages).toHaveLength(day.truth.messages);
    expect(MALFORMED_KINDS.every((k) => day.truth.malformed[k] > 0)).toBe(true);
  });

  it('writes taps as canonical JSON with the keys in contract order', () => {
    const keys = [
      'schema',
      'validatorId',
      'seq',
      'cardNo',
      'tappedAt',
      'mode',
      'lineCode',
      'vehicleId',
      'stopCode',
      'result',
      'rejectReason',
    ];
    // Per-message expect() is slow over 20,000 messages: collect what is wrong, assert once.
    const wrong = firstTaps(day.messages).filter(({ message }) => {
      const value: unknown = JSON.parse(message.value);
      return JSON.stringify(value) !== message.value || Object.keys(value as object).join() !== keys.join();
    });
    expect(wrong).toEqual([]);
  });

  it('keys every message by its validator id, and writes malformed ones oversized or unparseable as meant', () => {
    const wrong = day.messages.filter((m) => {
      const parsed = parseValidatorMessage(m.value);
      if (parsed.ok)
        return m.key !== (parsed.kind === 'tap' ? parsed.tap.validatorId : parsed.heartbeat.validatorId);
      return parsed.reason === 'OVERSIZED' && Buffer.byteLength(m.value) <= 16 * 1024;
    });
    expect(wrong).toEqual([]);
  });

  it('fits taps to the contract: modes, bus vehicles and stops, fixed stations', () => {
    const modes = new Set<string>();
    const wrong: string[] = [];
    for (const m of day.messages) {
      const parsed = parseValidatorMessage(m.value);
      if (!parsed.ok || parsed.kind !== 'tap') continue;
      const { tap } = parsed;
      modes.add(tap.mode);
      const fits =
        /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+03:00$/.test(tap.tappedAt) &&
        (tap.mode === 'BUS'
          ? /^BUS-\d{4,}-[1-3]$/.test(tap.validatorId) &&
            /^35-ESH-\d{4,}$/.test(tap.vehicleId ?? '') &&
            /^\d{5}$/.test(tap.stopCode ?? '')
          : tap.vehicleId === null && /^[A-Z0-9]{3}$/.test(tap.stopCode ?? ''));
      if (!fits) wrong.push(m.value);
    }
    expect(wrong).toEqual([]);
    expect([...modes].sort()).toEqual(['BUS', 'FERRY', 'METRO', 'SUBURBAN_RAIL', 'TRAM']);
  });
});

describe('generateDay: ground truth', () => {
  it('agrees with a reference ingest that reads the messages and the registry file', () => {
    const seen = judge(day.messages, day.registryRows);
    const { expected } = day.truth;
    expect(seen.stored).toBe(expected.stored);
    expect(seen.duplicates).toBe(expected.duplicates);
    expect(seen.matched).toBe(expected.matched);
    expect(seen.rejected).toBe(expected.rejected);
    expect(seen.heartbeats).toBe(day.truth.heartbeats);
    expect(seen.deadLettered).toEqual(expected.deadLettered);
    expect(expected.unmatched).toBe(expected.stored - expected.matched);
  });

  it('counts the faults it was asked for exactly, and the late and out-of-order ones close to their rate', () => {
    const t = day.truth;
    const n = 20_000;
    expect(t.uniqueTaps).toBe(n);
    expect(t.duplicates).toBe(n * MANY_FAULTS.duplicates);
    expect(t.drift).toBe(n * MANY_FAULTS.drift);
    expect(t.resets).toBe(n * MANY_FAULTS.resets);
    expect(Object.values(t.malformed).reduce((a, b) => a + b, 0)).toBe(n * MANY_FAULTS.malformed);
    expect(t.expected.deadLettered.CLOCK_DRIFT_FUTURE + t.expected.deadLettered.TAP_TOO_OLD).toBe(t.drift);
    expect(t.expected.stored).toBe(n - t.drift - t.resets);
    // Late: buses held until the depot sync reach the rate; a few taps just before midnight add to it.
    expect(t.late).toBeGreaterThanOrEqual(n * MANY_FAULTS.late);
    expect(t.late).toBeLessThan(n * MANY_FAULTS.late * 1.3);
    expect(t.outOfOrder).toBeGreaterThanOrEqual(n * MANY_FAULTS.outOfOrder * 0.8);
    expect(t.outOfOrder).toBeLessThan(n * MANY_FAULTS.outOfOrder * 1.5);
    expect(t.messages).toBe(t.taps + t.heartbeats + Object.values(t.malformed).reduce((a, b) => a + b, 0));
  });

  it('counts late and out-of-order taps as they are in the message order', () => {
    const maxSeq = new Map<string, number>();
    const seenSeq = new Set<string>();
    let late = 0;
    let outOfOrder = 0;
    for (const tap of firstTaps(day.messages)) {
      if (tap.ts >= DAY_END) late++;
      const key = `${tap.validatorId}/${tap.seq}`;
      // A reused seq is a counter reset, counted as such, not as out of order.
      if (seenSeq.has(key)) continue;
      seenSeq.add(key);
      const max = maxSeq.get(tap.validatorId) ?? -1;
      if (tap.seq < max) outOfOrder++;
      else maxSeq.set(tap.validatorId, tap.seq);
    }
    expect(late).toBe(day.truth.late);
    expect(outOfOrder).toBe(day.truth.outOfOrder);
  });

  it('without faults, stores every tap and dead-letters nothing', () => {
    const zero = { duplicates: 0, late: 0, outOfOrder: 0, drift: 0, resets: 0, malformed: 0 };
    const clean = generateDay({ day: DAY, taps: 5_000, seed: 3, faults: zero });
    const t: DayTruth = clean.truth;
    expect(t.expected.stored).toBe(5_000);
    expect(Object.values(t.expected.deadLettered).every((c) => c === 0)).toBe(true);
    expect(t.duplicates + t.drift + t.resets + t.outOfOrder).toBe(0);
    expect(t.messages).toBe(5_000 + t.heartbeats);
    expect(judge(clean.messages, clean.registryRows).stored).toBe(5_000);
  });

  it('uses the default rates when none are given', () => {
    expect(generateDay({ day: DAY, taps: 1_000 }).truth.faults).toEqual(DEFAULT_FAULT_RATES);
  });

  it('looks like a city day: ~1.6 taps per card, ~55 % matched, ~3 % rejected, transfers, two peaks', () => {
    const t = generateDay({ day: DAY, taps: 50_000, seed: 11 }).truth;
    expect(t.uniqueTaps / t.cards).toBeGreaterThan(1.45);
    expect(t.uniqueTaps / t.cards).toBeLessThan(1.75);
    expect(t.expected.matched / t.expected.stored).toBeGreaterThan(0.48);
    expect(t.expected.matched / t.expected.stored).toBeLessThan(0.62);
    expect(t.expected.rejected / t.expected.stored).toBeGreaterThan(0.02);
    expect(t.expected.rejected / t.expected.stored).toBeLessThan(0.04);
    expect(t.transfers / t.uniqueTaps).toBeGreaterThan(0.1);

    const hours = new Array<number>(24).fill(0);
    for (const tap of firstTaps(day.messages)) {
      const hour = Math.floor((tap.ms - DAY_START) / 3_600_000);
      if (hour >= 0 && hour < 24) hours[hour] = (hours[hour] ?? 0) + 1;
    }
    const at = (h: number) => hours[h] ?? 0;
    expect(at(8)).toBeGreaterThan(2 * at(11));
    expect(at(17)).toBeGreaterThan(1.5 * at(13));
    expect(at(3)).toBeLessThan(at(8) / 20);
  });
});

describe('generateDay: seqs and upload times', () => {
  const taps = firstTaps(day.messages);
  const byValidator = new Map<string, ParsedTap[]>();
  for (const tap of taps)
    byValidator.set(tap.validatorId, [...(byValidator.get(tap.validatorId) ?? []), tap]);
  const drifting = (tap: ParsedTap) => tap.ms > tap.ts + 10 * MINUTE || tap.ms < tap.ts - 7 * 86_400_000;

  it('numbers each validator’s taps +1 in tap order, except taps after a counter reset', () => {
    let reused = 0;
    for (const list of byValidator.values()) {
      const seqs = list.map((t) => t.seq);
      const min = Math.min(...seqs);
      const max = Math.max(...seqs);
      // Every seq from the first to the last exists (drifting taps included).
      expect(new Set(seqs).size).toBe(max - min + 1);
      let highest = -1;
      const seen = new Set<number>();
      for (const tap of list.filter((t) => !drifting(t)).sort((a, b) => a.ms - b.ms)) {
        if (seen.has(tap.seq)) reused++;
        else expect(tap.seq).toBeGreaterThan(highest);
        seen.add(tap.seq);
        highest = Math.max(highest, tap.seq);
      }
    }
    expect(reused).toBe(day.truth.resets);
  });

  it('sends each validator’s messages with strictly increasing timestamps, the day in time order', () => {
    const last = new Map<string, number>();
    let previous = 0;
    const wrong = day.messages.filter((m) => {
      const ts = Number(m.timestamp);
      const ok = Number.isInteger(ts) && ts >= previous && ts > (last.get(m.key) ?? 0);
      last.set(m.key, ts);
      previous = ts;
      return !ok;
    });
    expect(wrong).toEqual([]);
  });

  it('uploads taps after they happen: mostly within minutes, late ones after midnight until 04:00', () => {
    const delays: number[] = [];
    const wrong: ParsedTap[] = [];
    for (const tap of taps) {
      if (drifting(tap)) continue;
      const ok =
        serviceDayOf(tap.ms) === DAY && tap.ts >= tap.ms && tap.ts < DAY_END + 4 * 60 * MINUTE + MINUTE;
      if (!ok) wrong.push(tap);
      delays.push(tap.ts - tap.ms);
    }
    expect(wrong).toEqual([]);
    delays.sort((a, b) => a - b);
    expect(delays[Math.floor(delays.length / 2)]).toBeLessThan(3 * MINUTE);
    expect(delays[Math.floor(delays.length * 0.8)]).toBeLessThan(10 * MINUTE);
  });

  it('repeats a duplicate later with the very same value and key', () => {
    const firstAt = new Map<string, number>();
    let repeats = 0;
    for (const m of day.messages) {
      const parsed = parseValidatorMessage(m.value);
      if (!parsed.ok || parsed.kind !== 'tap') continue;
      const first = firstAt.get(m.value);
      if (first === undefined) firstAt.set(m.value, Number(m.timestamp));
      else {
        repeats++;
        expect(Number(m.timestamp)).toBeGreaterThanOrEqual(first + MINUTE);
      }
    }
    expect(repeats).toBe(day.truth.duplicates);
  });

  it('sends a heartbeat after the day from every validator, with its last seq, and a few during the day', () => {
    const lastSeq = new Map<string, number>();
    for (const [id, list] of byValidator) lastSeq.set(id, Math.max(...list.map((t) => t.seq)));
    const endOfDay = new Map<string, number>();
    let daytime = 0;
    for (const m of day.messages) {
      const parsed = parseValidatorMessage(m.value);
      if (!parsed.ok || parsed.kind !== 'heartbeat') continue;
      const { heartbeat } = parsed;
      expect(heartbeat.atMs).toBeLessThanOrEqual(Number(m.timestamp));
      expect(heartbeat.lastSeq).toBeLessThanOrEqual(lastSeq.get(heartbeat.validatorId) ?? -1);
      if (heartbeat.atMs >= DAY_END) endOfDay.set(heartbeat.validatorId, heartbeat.lastSeq);
      else daytime++;
    }
    expect(endOfDay).toEqual(lastSeq);
    expect(daytime).toBeGreaterThan(byValidator.size);
  });
});

describe('generateDay: registry', () => {
  const matches = parseRows(day.registryRows);

  it('writes rows that parseImportRow accepts', () => {
    expect(matches).toHaveLength(day.truth.registryRows);
    expect(matches.length).toBeGreaterThan(0);
  });

  it('never gives a card two matches, or a person two cards, at one instant', () => {
    const overlaps = (key: (m: Match) => string) => {
      const groups = new Map<string, Match[]>();
      for (const m of matches) groups.set(key(m), [...(groups.get(key(m)) ?? []), m]);
      let found = 0;
      for (const list of groups.values()) {
        list.sort((a, b) => a.validFrom.getTime() - b.validFrom.getTime());
        for (let i = 1; i < list.length; i++) {
          const before = list[i - 1]?.validTo;
          const from = list[i]?.validFrom.getTime() ?? 0;
          if (before === null || before === undefined || before.getTime() > from) found++;
        }
      }
      return found;
    };
    expect(overlaps((m) => m.cardNo)).toBe(0);
    expect(overlaps((m) => m.tcKimlikNo)).toBe(0);
  });

  it('holds matches from before the day, and HES changes, card replacements and new matches during it', () => {
    const during = (ms: number | undefined) => ms !== undefined && ms > DAY_START && ms < DAY_END;
    const closedDuring = matches.filter((m) => during(m.validTo?.getTime()));
    const openedDuring = matches.filter((m) => during(m.validFrom.getTime()));
    expect(matches.filter((m) => m.validFrom.getTime() < DAY_START).length).toBeGreaterThan(
      openedDuring.length,
    );
    // A HES change: the same card closes and reopens at one instant with another code.
    const hesChange = closedDuring.some((c) =>
      openedDuring.some((o) => o.cardNo === c.cardNo && o.validFrom.getTime() === c.validTo?.getTime()),
    );
    // A replacement: the same person, another card, from the instant the old one ends.
    const replacement = closedDuring.some((c) =>
      openedDuring.some(
        (o) =>
          o.tcKimlikNo === c.tcKimlikNo &&
          o.cardNo !== c.cardNo &&
          o.validFrom.getTime() === c.validTo?.getTime(),
      ),
    );
    const newMatch = openedDuring.some((o) => !closedDuring.some((c) => c.tcKimlikNo === o.tcKimlikNo));
    expect([hesChange, replacement, newMatch]).toEqual([true, true, true]);
    const personal = matches.filter((m) => m.cardKind === 'PERSONAL').length / matches.length;
    expect(personal).toBeGreaterThan(0.6);
    expect(personal).toBeLessThan(0.85);
  });

  it('makes the as-of join matter: some stored taps are by a registered card outside its matches', () => {
    // Taps before a card's first match of the day, or by a replaced card after its replacement.
    expect(judge(day.messages, day.registryRows).outsideTheirMatches).toBeGreaterThan(0);
  });
});

describe('DayOptions', () => {
  it.each<[string, DayOptions]>([
    ['a bad date', { day: '2020-02-30', taps: 10 }],
    ['a date in another format', { day: '20.11.2020', taps: 10 }],
    ['zero taps', { day: DAY, taps: 0 }],
    ['a fractional tap count', { day: DAY, taps: 10.5 }],
    ['a rate above 1', { day: DAY, taps: 10, faults: { duplicates: 1.5 } }],
    ['an unknown fault', { day: DAY, taps: 10, faults: { gremlins: 0.1 } as DayOptions['faults'] }],
  ])('refuses %s', (_case, options) => {
    expect(() => planDay(options)).toThrow();
  });
});
