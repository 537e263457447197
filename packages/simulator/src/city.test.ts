import { ValidatorId } from '@boarding/contracts/tap';
import { buildCity, FULL_SCALE_TAPS, STOP_INTERVAL_MS, stopCodeAt, validatorCountFor } from './city';
import { Random } from './random';

describe('validatorCountFor', () => {
  it('scales 8,000 validators at 2 M taps down proportionally, never below 10', () => {
    expect(validatorCountFor(FULL_SCALE_TAPS)).toBe(8_000);
    expect(validatorCountFor(100_000)).toBe(400);
    expect(validatorCountFor(2_000)).toBe(10);
    expect(validatorCountFor(1)).toBe(10);
  });
});

describe('buildCity', () => {
  const city = buildCity({ validators: 8_000, random: new Random(1) });
  const byMode = (mode: string) => city.validators.filter((v) => v.mode === mode);

  it('has ~300 bus lines and 8,000 validators with unique contract-valid ids', () => {
    expect(city.validators).toHaveLength(8_000);
    expect(city.busLines).toBe(300);
    expect(new Set(byMode('BUS').map((v) => v.lineCode)).size).toBe(300);
    expect(new Set(city.validators.map((v) => v.id)).size).toBe(8_000);
    for (const v of city.validators) expect(ValidatorId.safeParse(v.id).success).toBe(true);
  });

  it('puts 1–3 validators on each bus, sharing its vehicle id and line', () => {
    const buses = new Map<number, { vehicleId: string | null; line: string }[]>();
    for (const v of byMode('BUS'))
      buses.set(v.vehicle, [...(buses.get(v.vehicle) ?? []), { vehicleId: v.vehicleId, line: v.lineCode }]);
    expect(buses.size).toBe(city.vehicles);
    for (const list of buses.values()) {
      expect(list.length).toBeGreaterThanOrEqual(1);
      expect(list.length).toBeLessThanOrEqual(3);
      expect(new Set(list.map((v) => `${v.vehicleId}/${v.line}`)).size).toBe(1);
    }
  });

  it('gives gates and piers a station code and no vehicle, for every mode', () => {
    for (const mode of ['METRO', 'TRAM', 'FERRY', 'SUBURBAN_RAIL']) {
      expect(byMode(mode).length).toBeGreaterThan(0);
      for (const v of byMode(mode)) {
        expect(v.vehicleId).toBeNull();
        expect(v.stopCode).toMatch(/^[A-Z0-9]{3}$/);
      }
    }
    expect(city.validators.map((v) => v.id)).toContain('METRO-HLK-3');
  });

  it('moves a bus along its line, stop by stop, and keeps a gate where it is', () => {
    const bus = byMode('BUS')[0];
    const gate = byMode('METRO')[0];
    if (bus === undefined || gate === undefined) throw new Error('no bus or gate');
    const t = Date.parse('2020-11-20T05:00:00Z');
    const stops = Array.from({ length: bus.stops.length }, (_, k) =>
      stopCodeAt(bus, t + k * STOP_INTERVAL_MS),
    );
    expect(new Set(stops).size).toBeGreaterThan(bus.stops.length / 2);
    for (const s of stops) expect(bus.stops).toContain(s);
    expect(stopCodeAt(gate, t)).toBe(gate.stopCode);
  });

  it('builds a city with every mode from 10 validators', () => {
    const small = buildCity({ validators: 10, random: new Random(2) });
    expect(small.validators).toHaveLength(10);
    expect(new Set(small.validators.map((v) => v.mode)).size).toBe(5);
  });
});
