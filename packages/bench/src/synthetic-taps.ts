/**
 * Tap-shaped data for the limit measurements: the same fields and sizes as a real `tap.v1`
 * (SPEC §2), derived from the index alone so that a run is reproducible and generating a
 * million of them costs little next to what is being measured.
 */

export const VALIDATORS = 8000;

const MODES = ['BUS', 'BUS', 'BUS', 'METRO', 'TRAM', 'FERRY', 'SUBURBAN_RAIL'] as const;
// 2020-11-20T05:00:00+03:00, the start of a service day; taps then come ~3 ms apart.
const DAY_START_MS = Date.UTC(2020, 10, 20, 2, 0, 0);

export type SyntheticTap = {
  validatorId: string;
  seq: number;
  cardNo: string;
  tappedAt: string;
  mode: string;
  lineCode: string;
  vehicleId: string;
  stopCode: string;
  result: 'ACCEPTED' | 'REJECTED';
};

/** A 32-bit integer hash (Wang/Jenkins mix): spreads consecutive indexes over unrelated cards. */
function mix(n: number): number {
  let h = n | 0;
  h = h ^ 61 ^ (h >>> 16);
  h = Math.imul(h, 9);
  h ^= h >>> 4;
  h = Math.imul(h, 0x27d4eb2d);
  h ^= h >>> 15;
  return h >>> 0;
}

// Formatting a Date is most of the cost of a tap; taps come many per second, so the part up to
// the second is formatted once per second and reused.
let cachedSecond = Number.NaN;
let cachedPrefix = '';

/** `2020-11-20T08:15:42.120+03:00`: Istanbul local time with its fixed offset, as validators send it. */
function istanbulIso(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedPrefix = new Date(second * 1000 + 3 * 3600_000).toISOString().slice(0, 19);
  }
  return `${cachedPrefix}.${String(ms - second * 1000).padStart(3, '0')}+03:00`;
}

export function syntheticTap(index: number): SyntheticTap {
  const validator = index % VALIDATORS;
  const mode = MODES[validator % MODES.length] ?? 'BUS';
  const route = 100 + (validator % 397);
  const card = mix(index % 600_000);
  return {
    validatorId: `${mode === 'BUS' ? 'BUS' : mode.slice(0, 3)}-${30000 + validator}-1`,
    seq: 100_000 + Math.floor(index / VALIDATORS),
    cardNo: `04${card.toString(16).toUpperCase().padStart(8, '0')}${(card % 1_000_000).toString().padStart(6, '0')}`,
    tappedAt: istanbulIso(DAY_START_MS + index * 3),
    mode,
    lineCode: String(route),
    vehicleId: `35-ESH-${(1000 + (validator % 4000)).toString()}`,
    stopCode: String(10_000 + (mix(index) % 9000)),
    result: card % 50 === 0 ? 'REJECTED' : 'ACCEPTED',
  };
}

/** The Kafka message of a tap: keyed by validator id, value the `tap.v1` JSON (~250 bytes). */
export function tapMessage(index: number): { key: string; value: string } {
  const tap = syntheticTap(index);
  const value = JSON.stringify({
    schema: 'tap.v1',
    ...tap,
    rejectReason: tap.result === 'REJECTED' ? 'INSUFFICIENT_BALANCE' : null,
  });
  return { key: tap.validatorId, value };
}

/** One line of `COPY … FROM STDIN` text format. No field can hold a tab, newline or backslash. */
export function tapCopyLine(index: number): string {
  const t = syntheticTap(index);
  return `${t.validatorId}\t${t.seq}\t${t.cardNo}\t${t.tappedAt}\t${t.mode}\t${t.lineCode}\t${t.vehicleId}\t${t.stopCode}\t${t.result}\n`;
}
