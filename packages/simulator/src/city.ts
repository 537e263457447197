import type { TransitMode } from '@boarding/contracts/tap';
import type { Random } from './random';

/**
 * The İzmir-like network of a simulated day: ESHOT bus lines with 1–3 validators per bus,
 * metro and İZBAN station gates, tram platforms and ferry piers. Sized by the number of taps,
 * so a test day of 2,000 taps has a handful of validators and a benchmark day of 2 M has 8,000.
 */

export type Validator = {
  index: number;
  /** `BUS-3041-2`, `METRO-HLK-3`: A-Z 0-9 -, at most 32 characters (SPEC §2). */
  id: string;
  mode: TransitMode;
  lineCode: string;
  /** The bus's plate-like number; null on station gates and piers. */
  vehicleId: string | null;
  /** The station or pier of a fixed validator; null on a bus, whose stop changes with time. */
  stopCode: string | null;
  /** The stops a bus passes, in order; empty for fixed validators. */
  stops: readonly string[];
  /** Where along its line the bus is at time 0, in stop intervals. */
  phase: number;
  /** Index of the bus carrying it (its validators share one modem), or -1 for fixed validators. */
  vehicle: number;
  /** Relative share of the day's taps. */
  weight: number;
};

export type City = {
  validators: Validator[];
  /** Number of buses; `Validator.vehicle` indexes them. */
  vehicles: number;
  busLines: number;
};

/** The benchmark day of SPEC §1: 2 M taps on about 8,000 validators. */
export const FULL_SCALE_TAPS = 2_000_000;
export const FULL_SCALE_VALIDATORS = 8_000;
const FULL_SCALE_BUS_LINES = 300;
/** Every mode gets at least one validator, buses several. */
export const MIN_VALIDATORS = 10;

export function validatorCountFor(taps: number): number {
  return Math.max(MIN_VALIDATORS, Math.round((FULL_SCALE_VALIDATORS * taps) / FULL_SCALE_TAPS));
}

// Share of validators per mode at full scale (buses carry most of them) and share of taps
// per mode (late-2020 İzmir: buses most, then metro and İZBAN).
const VALIDATOR_SHARE: Record<Exclude<TransitMode, 'BUS'>, number> = {
  METRO: 0.12,
  SUBURBAN_RAIL: 0.08,
  TRAM: 0.06,
  FERRY: 0.04,
};
const TAP_SHARE: Record<TransitMode, number> = {
  BUS: 0.58,
  METRO: 0.18,
  SUBURBAN_RAIL: 0.12,
  TRAM: 0.08,
  FERRY: 0.04,
};

type Station = { code: string; line: string; popularity: number };

// Codes are made up from the station names; popularity is relative within a mode.
const METRO: Station[] = [
  ['EV3', 1],
  ['EGE', 1.2],
  ['BRN', 2],
  ['BLG', 0.8],
  ['SAN', 0.8],
  ['STD', 0.9],
  ['HLK', 2.5],
  ['HIL', 0.9],
  ['BSM', 1.8],
  ['CNK', 1.7],
  ['KNK', 2.4],
  ['UCY', 1.6],
  ['IZS', 0.8],
  ['HAT', 1],
  ['GOZ', 1.1],
  ['POL', 0.9],
  ['FAL', 1.6],
].map(([code, popularity]) => ({ code: String(code), line: 'M1', popularity: Number(popularity) }));

const TRAM: Station[] = [
  ...['ALB', 'KSI', 'NKS', 'YLI', 'CRS', 'BSI', 'ATS', 'MVS'].map((code) => ({ code, line: 'T1' })),
  ...['FAT', 'GZI', 'KNT', 'GAZ', 'ALG', 'CUM', 'PST', 'HLT'].map((code) => ({ code, line: 'T2' })),
].map((s, i) => ({ ...s, popularity: 0.6 + ((i * 7) % 5) / 4 }));

const SUBURBAN_RAIL: Station[] = [
  'ALI',
  'MEN',
  'CIG',
  'KSY',
  'TRS',
  'BYR',
  'SLH',
  'HLK',
  'ALS',
  'KMR',
  'SRN',
  'GZM',
  'ESB',
  'HVL',
  'CUM',
  'TRB',
].map((code, i) => ({
  code,
  line: 'IZBAN',
  popularity: code === 'HLK' || code === 'KSY' ? 2.5 : 0.7 + (i % 4) / 3,
}));

const FERRY: Station[] = [
  ['KSK', 'KSK-KNK', 2],
  ['BST', 'BST-PSP', 1.6],
  ['BYR', 'BYR-KNK', 0.6],
  ['ALS', 'ALS-KSK', 0.7],
  ['PSP', 'PSP-BST', 1.2],
  ['KNK', 'KNK-KSK', 1.8],
  ['GZT', 'GZT-KSK', 0.8],
  ['UCK', 'UCK-BST', 0.7],
].map(([code, line, popularity]) => ({
  code: String(code),
  line: String(line),
  popularity: Number(popularity),
}));

const STATIONS: Record<Exclude<TransitMode, 'BUS'>, { prefix: string; stations: Station[] }> = {
  METRO: { prefix: 'METRO', stations: METRO },
  SUBURBAN_RAIL: { prefix: 'IZBAN', stations: SUBURBAN_RAIL },
  TRAM: { prefix: 'TRAM', stations: TRAM },
  FERRY: { prefix: 'FERRY', stations: FERRY },
};

/** A bus reaches its next stop every two minutes and runs its line back and forth. */
export const STOP_INTERVAL_MS = 120_000;

/** The stop a validator is at when a tap happens: fixed for gates and piers, moving for buses. */
export function stopCodeAt(validator: Validator, ms: number): string | null {
  const { stops } = validator;
  if (stops.length === 0) return validator.stopCode;
  if (stops.length === 1) return stops[0] ?? null;
  const period = 2 * (stops.length - 1);
  const step = (Math.floor(ms / STOP_INTERVAL_MS) + validator.phase) % period;
  return stops[step < stops.length ? step : period - step] ?? null;
}

// Doors of one bus: the front validator takes most boardings.
const DOOR_SHARE = [0.6, 0.3, 0.1];

export function buildCity(options: { validators: number; random: Random }): City {
  const { random } = options;
  const total = Math.max(MIN_VALIDATORS, Math.floor(options.validators));
  const validators: Validator[] = [];

  const fixedModes = Object.keys(VALIDATOR_SHARE) as Exclude<TransitMode, 'BUS'>[];
  const fixedCounts = fixedModes.map((mode) => Math.max(1, Math.round(total * VALIDATOR_SHARE[mode])));
  const busCount = total - fixedCounts.reduce((a, b) => a + b, 0);

  // Buses first: lines with a popularity each, buses assigned to lines by popularity.
  const lineCount = Math.max(
    1,
    Math.round((FULL_SCALE_BUS_LINES * busCount) / (FULL_SCALE_VALIDATORS * 0.7)),
  );
  const lineCodes = distinctInts(random, lineCount, 1, Math.max(999, 3 * lineCount)).map(String);
  const linePopularity = lineCodes.map(() => Math.exp(random.uniform(-1, 1)));
  const lineStops = lineCodes.map(() => distinctInts(random, random.int(15, 45), 10_000, 69_999).map(String));
  // Four-digit fleet numbers as ESHOT's, five or more only for a city larger than İzmir.
  const fleet = distinctInts(random, busCount, 1000, Math.max(9999, 1000 + 2 * busCount));
  const busesPerLine = new Array<number>(lineCount).fill(0);
  const busValidators: { line: number; vehicle: number; door: number; doors: number; fleetNo: number }[] = [];
  let vehicles = 0;
  while (busValidators.length < busCount) {
    // Every line gets a bus before any gets a second one, then by popularity.
    const line = vehicles < lineCount ? vehicles : pickByWeight(random, linePopularity);
    const doors = Math.min(busCount - busValidators.length, pickDoors(random));
    const fleetNo = fleet[vehicles] ?? 1000 + vehicles;
    for (let door = 0; door < doors; door++) {
      busValidators.push({ line, vehicle: vehicles, door, doors, fleetNo });
    }
    busesPerLine[line] = (busesPerLine[line] ?? 0) + 1;
    vehicles++;
  }
  const busLinePopularity = linePopularity.reduce((a, p, i) => ((busesPerLine[i] ?? 0) > 0 ? a + p : a), 0);
  for (const b of busValidators) {
    const doorShare = b.doors === 1 ? 1 : (DOOR_SHARE[b.door] ?? 0.1) / sumDoorShares(b.doors);
    const lineShare = (linePopularity[b.line] ?? 1) / busLinePopularity;
    validators.push({
      index: validators.length,
      id: `BUS-${b.fleetNo}-${b.door + 1}`,
      mode: 'BUS',
      lineCode: lineCodes[b.line] ?? '1',
      vehicleId: `35-ESH-${b.fleetNo}`,
      stopCode: null,
      stops: lineStops[b.line] ?? [],
      phase: random.int(0, 200),
      vehicle: b.vehicle,
      weight: (TAP_SHARE.BUS * lineShare * doorShare) / (busesPerLine[b.line] ?? 1),
    });
  }

  // Gates and piers: the most popular stations first, gates spread by popularity.
  fixedModes.forEach((mode, m) => {
    const count = fixedCounts[m] ?? 1;
    const { prefix, stations } = STATIONS[mode];
    const used = [...stations]
      .sort((a, b) => b.popularity - a.popularity)
      .slice(0, Math.min(count, stations.length));
    const gates = used.map(() => 1);
    const popularity = used.map((s) => s.popularity);
    for (let extra = count - used.length; extra > 0; extra--) {
      const s = pickByWeight(random, popularity);
      gates[s] = (gates[s] ?? 1) + 1;
    }
    const usedPopularity = popularity.reduce((a, b) => a + b, 0);
    used.forEach((station, s) => {
      const n = gates[s] ?? 1;
      for (let g = 1; g <= n; g++) {
        validators.push({
          index: validators.length,
          id: `${prefix}-${station.code}-${g}`,
          mode,
          lineCode: station.line,
          vehicleId: null,
          stopCode: station.code,
          stops: [],
          phase: 0,
          vehicle: -1,
          weight: (TAP_SHARE[mode] * station.popularity) / usedPopularity / n,
        });
      }
    });
  });

  return { validators, vehicles, busLines: lineCount };
}

function pickDoors(random: Random): number {
  const r = random.next();
  return r < 0.3 ? 1 : r < 0.8 ? 2 : 3;
}

function sumDoorShares(doors: number): number {
  return DOOR_SHARE.slice(0, doors).reduce((a, b) => a + b, 0);
}

function pickByWeight(random: Random, weights: readonly number[]): number {
  const total = weights.reduce((a, b) => a + b, 0);
  let target = random.next() * total;
  for (let i = 0; i < weights.length; i++) {
    target -= weights[i] ?? 0;
    if (target < 0) return i;
  }
  return weights.length - 1;
}

/** `count` distinct integers in [min, max], in draw order (count must fit the range). */
function distinctInts(random: Random, count: number, min: number, max: number): number[] {
  const wanted = Math.min(count, max - min + 1);
  const seen = new Set<number>();
  const out: number[] = [];
  while (out.length < wanted) {
    const n = random.int(min, max);
    if (seen.has(n)) continue;
    seen.add(n);
    out.push(n);
  }
  return out;
}
