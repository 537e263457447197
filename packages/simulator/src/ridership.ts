import { DAY_MS, HOUR_MS, MINUTE_MS } from '@boarding/contracts/time';
import type { City } from './city';
import { type Random, WeightedPicker } from './random';

/**
 * Who boards where and when: riders (one card each) make one to three journeys a day, a
 * quarter of journeys with a transfer tap within 90 minutes. Taps are held column-wise in typed
 * arrays, so a 2 M-tap day costs tens of megabytes rather than millions of objects.
 */
export type TapTable = {
  count: number;
  rider: Uint32Array;
  validator: Uint32Array;
  /** The real instant of the tap (epoch ms); a drifting clock may write another one. */
  time: Float64Array;
};

export type Ridership = { taps: TapTable; riders: number; transfers: number };

// Relative boardings per Istanbul hour: a morning peak at 07–09, an evening peak at 16–19,
// almost nothing between 01 and 05.
const HOURLY = [
  0.3, 0.1, 0.05, 0.05, 0.1, 0.8, 3.5, 8.5, 9, 5.5, 4.5, 4.5, 5, 5, 5, 5.5, 7, 9, 8.5, 5.5, 3.5, 2.5, 1.5,
  0.8,
];

// Journeys per rider (mean 1.28) and the transfer share (25 %) give ~1.6 taps per card per day.
const JOURNEYS = [0.76, 0.2, 0.04];
const TRANSFER_SHARE = 0.25;
/** SPEC §8: a transfer is a second tap within 90 minutes. */
const TRANSFER_MIN_MS = 3 * MINUTE_MS;
const TRANSFER_MAX_MS = 85 * MINUTE_MS;

export function generateRidership(options: {
  taps: number;
  city: City;
  dayStartMs: number;
  random: Random;
}): Ridership {
  const { city, dayStartMs, random } = options;
  const n = options.taps;
  const table: TapTable = {
    count: n,
    rider: new Uint32Array(n),
    validator: new Uint32Array(n),
    time: new Float64Array(n),
  };
  const hours = new WeightedPicker(HOURLY);
  const journeyCount = new WeightedPicker(JOURNEYS);
  const validators = new WeightedPicker(city.validators.map((v) => v.weight));
  const dayEnd = dayStartMs + DAY_MS;
  const times: number[] = [];
  let count = 0;
  let rider = 0;
  let transfers = 0;

  const push = (validator: number, time: number): void => {
    table.rider[count] = rider;
    table.validator[count] = validator;
    table.time[count] = time;
    count++;
  };

  while (count < n) {
    const journeys = journeyCount.pick(random) + 1;
    times.length = 0;
    for (let j = 0; j < journeys; j++) {
      times.push(dayStartMs + hours.pick(random) * HOUR_MS + Math.floor(random.next() * HOUR_MS));
    }
    times.sort((a, b) => a - b);
    for (const time of times) {
      if (count >= n) break;
      const first = validators.pick(random);
      push(first, time);
      if (count >= n || !random.chance(TRANSFER_SHARE)) continue;
      const second = time + Math.floor(random.uniform(TRANSFER_MIN_MS, TRANSFER_MAX_MS));
      if (second >= dayEnd) continue;
      push(pickTransfer(city, validators, random, first), second);
      transfers++;
    }
    rider++;
  }
  return { taps: table, riders: rider, transfers };
}

/** A transfer boards something else: another mode or line if a few picks find one. */
function pickTransfer(city: City, validators: WeightedPicker, random: Random, first: number): number {
  const from = city.validators[first];
  let pick = first;
  for (let attempt = 0; attempt < 4; attempt++) {
    pick = validators.pick(random);
    const to = city.validators[pick];
    if (from === undefined || to === undefined) break;
    if (to.mode !== from.mode || to.lineCode !== from.lineCode) break;
  }
  return pick;
}
