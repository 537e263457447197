import {
  DAY_MS,
  DEFAULT_MAX_TAP_AGE_DAYS,
  HOUR_MS,
  MAX_CLOCK_AHEAD_MS,
  MINUTE_MS,
} from '@boarding/contracts/time';
import type { City } from './city';
import { MESSAGE_KIND, type MessageColumns, TAP_FLAG } from './day-state';
import type { Malformed } from './faults';
import type { Random } from './random';
import type { TapTable } from './ridership';
import { permutation, type ValidatorTaps } from './validator-taps';

// When each message reaches Kafka. Validators upload in batches: gates and piers are wired and
// sync every few seconds, buses every few minutes over the mobile network, some buses lose
// coverage for hours, and some keep their backlog until the depot sync after midnight.

const FIXED_SYNC_MS: [number, number] = [2_000, 45_000];
const BUS_SYNC_MS: [number, number] = [20_000, 6 * MINUTE_MS];
/** Share of buses out of coverage for 1–4 hours in the day, uploading the backlog after. */
const OFFLINE_WINDOW_SHARE = 0.08;
/** Depot syncs after midnight: D+1 00:05–04:00 (SPEC §8 late uploads). */
const DEPOT_SYNC_MS: [number, number] = [5 * MINUTE_MS, 4 * HOUR_MS];
/** A bus goes offline for the night no earlier than 14:00. */
const DEPOT_EARLIEST_MS = 14 * HOUR_MS;
// A drifting clock is clearly past the SPEC §2 limits: 15 min–6 h ahead, 8–400 days behind.
const DRIFT_AHEAD_MS: [number, number] = [MAX_CLOCK_AHEAD_MS + 5 * MINUTE_MS, 6 * HOUR_MS];
const DRIFT_BEHIND_MS: [number, number] = [(DEFAULT_MAX_TAP_AGE_DAYS + 1) * DAY_MS, 400 * DAY_MS];
/** A duplicate is the same message uploaded again, a minute to three hours later. */
const DUPLICATE_DELAY_MS: [number, number] = [MINUTE_MS, 3 * HOUR_MS];
const DAYTIME_HEARTBEATS = 3;

/** Per bus: when it loses coverage. Infinity where it never does. */
export type Coverage = {
  depotFrom: Float64Array;
  depotSync: Float64Array;
  windowStart: Float64Array;
  windowEnd: Float64Array;
};

/**
 * Buses held until the depot sync, chosen in random order until the taps they hold reach
 * `lateTarget` (the last one holds just enough), and buses out of coverage for a few hours.
 */
export function pickCoverage(input: {
  city: City;
  groups: ValidatorTaps;
  taps: TapTable;
  dayStartMs: number;
  lateTarget: number;
  lateRandom: Random;
  windowRandom: Random;
}): Coverage {
  const { city, groups, taps, dayStartMs, lateTarget, lateRandom: random } = input;
  const dayEnd = dayStartMs + DAY_MS;
  const vehicles = city.vehicles;
  const coverage: Coverage = {
    depotFrom: new Float64Array(vehicles).fill(Number.POSITIVE_INFINITY),
    depotSync: new Float64Array(vehicles),
    windowStart: new Float64Array(vehicles).fill(Number.POSITIVE_INFINITY),
    windowEnd: new Float64Array(vehicles).fill(Number.POSITIVE_INFINITY),
  };
  const validatorsOfVehicle: number[][] = Array.from({ length: vehicles }, () => []);
  for (const v of city.validators) if (v.vehicle >= 0) validatorsOfVehicle[v.vehicle]?.push(v.index);

  let held = 0;
  for (const vehicle of permutation(vehicles, random)) {
    if (held >= lateTarget) break;
    const evening: number[] = [];
    for (const v of validatorsOfVehicle[vehicle] ?? []) {
      for (let k = 0; k < groups.count(v); k++) {
        const time = taps.time[groups.tap(v, k)] ?? 0;
        if (time >= dayStartMs + DEPOT_EARLIEST_MS) evening.push(time);
      }
    }
    if (evening.length === 0) continue;
    evening.sort((a, b) => b - a);
    const m = Math.min(lateTarget - held, random.int(Math.ceil(evening.length / 4), evening.length));
    const from = evening[m - 1] ?? dayEnd;
    coverage.depotFrom[vehicle] = from;
    coverage.depotSync[vehicle] = dayEnd + Math.floor(random.uniform(...DEPOT_SYNC_MS));
    held += evening.filter((t) => t >= from).length;
  }

  const windows = input.windowRandom;
  for (let vehicle = 0; vehicle < vehicles; vehicle++) {
    if (!windows.chance(OFFLINE_WINDOW_SHARE)) continue;
    const start = dayStartMs + Math.floor(windows.uniform(6 * HOUR_MS, 19 * HOUR_MS));
    const end = Math.min(
      start + Math.floor(windows.uniform(HOUR_MS, 4 * HOUR_MS)),
      coverage.depotFrom[vehicle] ?? dayEnd,
    );
    if (end <= start) continue;
    coverage.windowStart[vehicle] = start;
    coverage.windowEnd[vehicle] = end;
  }
  return coverage;
}

type Entry = { time: number; kind: number; ref: number; at: number };

type Batch = { start: number; end: number; sync: number; normal: boolean };

export type Uploads = {
  msg: MessageColumns;
  /** The instant each tap's device clock wrote: the real one except on drifting taps. */
  shownTime: Float64Array;
  /** Taps first uploaded after the day ended. */
  late: number;
  heartbeats: number;
};

/**
 * Every message of every validator with its upload instant (the Kafka timestamp). Validators
 * are visited in random order so that the out-of-order target, reached early, spreads over
 * modes. A validator's timestamps strictly increase in its send order, so (timestamp,
 * validator) orders the whole day with no ties.
 */
export function scheduleUploads(input: {
  city: City;
  groups: ValidatorTaps;
  taps: TapTable;
  seq: Float64Array;
  flags: Uint8Array;
  copies: Uint8Array;
  malformed: Malformed;
  coverage: Coverage;
  dayStartMs: number;
  outOfOrderTarget: number;
  random: Random;
}): Uploads {
  const { city, groups, taps, seq, flags, copies, malformed, coverage, random } = input;
  const n = taps.count;
  const dayEnd = input.dayStartMs + DAY_MS;
  const validators = city.validators.length;
  const capacity =
    n + copies.reduce((a, b) => a + b, 0) + malformed.tap.length + (DAYTIME_HEARTBEATS + 1) * validators;
  const msg: MessageColumns = {
    count: 0,
    kind: new Uint8Array(capacity),
    validator: new Uint32Array(capacity),
    ref: new Float64Array(capacity),
    time: new Float64Array(capacity),
    at: new Float64Array(capacity),
  };
  const uploads: Uploads = { msg, shownTime: new Float64Array(taps.time), late: 0, heartbeats: 0 };
  // Swapping adjacent batches with this probability reaches the target within the first
  // validators visited.
  const swapChance = Math.min(1, (2.5 * input.outOfOrderTarget) / n);
  let swappedTaps = 0;

  for (const v of permutation(validators, random)) {
    const count = groups.count(v);
    if (count === 0) continue;
    const vehicle = city.validators[v]?.vehicle ?? -1;
    const at = (array: Float64Array) =>
      vehicle >= 0 ? (array[vehicle] ?? Number.POSITIVE_INFINITY) : Number.POSITIVE_INFINITY;
    const depotFrom = at(coverage.depotFrom);
    const depotSync = coverage.depotSync[vehicle] ?? dayEnd;
    const windowStart = at(coverage.windowStart);
    const windowEnd = at(coverage.windowEnd);
    const [syncMin, syncMax] = vehicle >= 0 ? BUS_SYNC_MS : FIXED_SYNC_MS;
    const timeAt = (k: number): number => taps.time[groups.tap(v, k)] ?? 0;

    // Batches of consecutive taps, each uploaded at its sync instant, +1 ms per message.
    const batches: Batch[] = [];
    for (let k = 0; k < count; ) {
      const t = timeAt(k);
      let end = k + 1;
      let sync: number;
      let normal = false;
      if (t >= depotFrom) {
        end = count;
        sync = depotSync;
      } else if (t >= windowStart && t < windowEnd) {
        while (end < count && timeAt(end) < windowEnd && timeAt(end) < depotFrom) end++;
        sync = windowEnd + Math.floor(random.uniform(5_000, 60_000));
      } else {
        sync = t + Math.floor(random.uniform(syncMin, syncMax));
        // A bus uploads what it has just before it loses coverage (a window or the night).
        const coverageEnds = t < windowStart ? Math.min(windowStart, depotFrom) : depotFrom;
        if (sync >= coverageEnds) sync = coverageEnds - 1;
        while (end < count && timeAt(end) <= sync) end++;
        normal = true;
      }
      batches.push({ start: k, end, sync, normal });
      k = end;
    }

    // Out of order: an ordinary batch whose upload failed goes through right after the next.
    const sendAt = batches.map((b) => b.sync);
    const swapped = new Array<boolean>(batches.length).fill(false);
    const touchesReset = (b: Batch): boolean => {
      const reset = TAP_FLAG.RESET_ORIGINAL | TAP_FLAG.RESET_CONFLICT;
      for (let k = b.start; k < b.end; k++) if ((flags[groups.tap(v, k)] ?? 0) & reset) return true;
      return false;
    };
    for (let b = 0; b + 1 < batches.length && swappedTaps < input.outOfOrderTarget; b++) {
      const batch = batches[b];
      const next = batches[b + 1];
      if (!batch?.normal || !next?.normal || !random.chance(swapChance)) continue;
      // A reused seq must arrive after the seq it reuses, or the wrong tap would be kept.
      if (touchesReset(batch) || touchesReset(next)) continue;
      sendAt[b] = next.sync + (next.end - next.start) + 1;
      swapped[b] = true;
      swapped[b + 1] = true;
      swappedTaps += batch.end - batch.start;
      b++;
    }

    const entries: Entry[] = [];
    const tapSentAt = new Float64Array(count);
    batches.forEach((batch, b) => {
      for (let k = batch.start; k < batch.end; k++) {
        const time = (sendAt[b] ?? 0) + (k - batch.start);
        tapSentAt[k] = time;
        entries.push({ time, kind: MESSAGE_KIND.TAP, ref: groups.tap(v, k), at: 0 });
      }
    });

    // Heartbeats: a few after ordinary batches, one after the day once everything is uploaded.
    // lastSeq is the highest seq recorded by `at` (a counter reset does not lower it).
    const highestSeq = new Float64Array(count);
    for (let k = 0, max = -1; k < count; k++) {
      max = Math.max(max, seq[groups.tap(v, k)] ?? 0);
      highestSeq[k] = max;
    }
    const lastSeqAt = (instant: number): number => {
      let lo = 0;
      let hi = count;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (timeAt(mid) <= instant) lo = mid + 1;
        else hi = mid;
      }
      return lo === 0 ? -1 : (highestSeq[lo - 1] ?? -1);
    };
    const eligible = batches.flatMap((batch, b) => (batch.normal && !swapped[b] ? [b] : []));
    for (let h = 0; h < DAYTIME_HEARTBEATS && eligible.length > 0; h++) {
      const [b] = eligible.splice(random.int(0, eligible.length - 1), 1);
      const batch = b === undefined ? undefined : batches[b];
      if (b === undefined || batch === undefined) break;
      const instant = (sendAt[b] ?? 0) + (batch.end - batch.start) + Math.floor(random.uniform(500, 2_000));
      const lastSeq = lastSeqAt(instant);
      if (lastSeq < 0) continue;
      const time = instant + Math.floor(random.uniform(50, 500));
      entries.push({ time, kind: MESSAGE_KIND.HEARTBEAT, ref: lastSeq, at: instant });
    }
    let lastUpload = 0;
    for (const e of entries) if (e.kind === MESSAGE_KIND.TAP) lastUpload = Math.max(lastUpload, e.time);
    // A bus held for the night reports when it syncs at the depot, after its backlog.
    const endOfDay =
      depotFrom < Number.POSITIVE_INFINITY
        ? Math.max(depotSync, lastUpload) + Math.floor(random.uniform(1_000, 5_000))
        : Math.max(dayEnd + 5 * MINUTE_MS + Math.floor(random.uniform(0, 60_000)), lastUpload + 1_000);
    entries.push({
      time: endOfDay + Math.floor(random.uniform(50, 500)),
      kind: MESSAGE_KIND.HEARTBEAT,
      ref: highestSeq[count - 1] ?? 0,
      at: endOfDay,
    });

    for (let k = 0; k < count; k++) {
      const i = groups.tap(v, k);
      for (let c = 0; c < (copies[i] ?? 0); c++) {
        const time = (tapSentAt[k] ?? 0) + Math.floor(random.uniform(...DUPLICATE_DELAY_MS));
        entries.push({ time, kind: MESSAGE_KIND.DUPLICATE, ref: i, at: 0 });
      }
    }
    for (const j of malformed.ofValidator[v] ?? []) {
      const k = groups.position(malformed.tap[j] ?? 0);
      const time = (tapSentAt[k] ?? 0) + Math.floor(random.uniform(1, 5_000));
      entries.push({ time, kind: MESSAGE_KIND.MALFORMED, ref: j, at: 0 });
    }

    // Send order (sort is stable: a batch keeps its order), then strictly increasing times.
    entries.sort((a, b) => a.time - b.time);
    let previous = Number.NEGATIVE_INFINITY;
    for (const e of entries) {
      const time = Math.max(Math.floor(e.time), previous + 1);
      previous = time;
      const m = msg.count++;
      msg.kind[m] = e.kind;
      msg.validator[m] = v;
      msg.ref[m] = e.ref;
      msg.time[m] = time;
      msg.at[m] = e.at;
      if (e.kind === MESSAGE_KIND.HEARTBEAT) uploads.heartbeats++;
      if (e.kind !== MESSAGE_KIND.TAP) continue;
      if (time >= dayEnd) uploads.late++;
      // A drifting clock is judged against this timestamp: far enough off to be dead-lettered.
      const f = flags[e.ref] ?? 0;
      if (f & TAP_FLAG.DRIFT_FUTURE) {
        uploads.shownTime[e.ref] = time + Math.floor(random.uniform(...DRIFT_AHEAD_MS));
      } else if (f & TAP_FLAG.DRIFT_OLD) {
        uploads.shownTime[e.ref] = time - Math.floor(random.uniform(...DRIFT_BEHIND_MS));
      }
    }
  }
  return uploads;
}
