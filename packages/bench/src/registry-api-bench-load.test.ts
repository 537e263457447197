import { isValidTcKimlikNo } from '@boarding/contracts/tc-kimlik';
import { syntheticCardNo, syntheticTc } from '@boarding/simulator/identities';
import { Random } from '@boarding/simulator/random';
import {
  bodyOf,
  checkRun,
  errorCodeOf,
  hesChanges,
  newPersons,
  percentile,
  ROUTE_OF,
  registryLinePart,
  requestMix,
  serverTimes,
  serverTimesBetween,
  standInCsv,
  summariseLatencies,
  WRITE_KINDS,
  WritePool,
  writeOutcomeOk,
  writesNeeded,
} from './registry-api-bench-load';
import { cpuSecondsBetween, loggedField } from './registry-api-bench-processes';

const ALL_ROUTES = new Set(Object.values(ROUTE_OF));

describe('requestMix', () => {
  it('sends 8 lookups and 2 writes in every 10 requests, the writes apart', () => {
    const mix = requestMix(ALL_ROUTES);
    expect(mix).toEqual([
      'staff-lookup',
      'own-match',
      'staff-lookup',
      'own-match',
      'match',
      'staff-lookup',
      'own-match',
      'staff-lookup',
      'own-match',
      'hes-change',
    ]);
    expect(mix.filter((k) => WRITE_KINDS.has(k))).toHaveLength(2);
    // Cycling the sequence never puts two writes side by side (the last slot is followed by the first).
    const cycled = [...mix, ...mix];
    for (let i = 1; i < cycled.length; i++) {
      expect(WRITE_KINDS.has(cycled[i - 1] ?? 'match') && WRITE_KINDS.has(cycled[i] ?? 'match')).toBe(false);
    }
  });

  it('keeps 80/20 with the staff lookup and new matches alone when the citizen routes are missing', () => {
    const mix = requestMix(new Set([ROUTE_OF['staff-lookup'], ROUTE_OF.match]));
    expect(mix.filter((k) => k === 'staff-lookup')).toHaveLength(8);
    expect(mix.filter((k) => k === 'match')).toHaveLength(2);
  });

  it('refuses a server without the staff lookup or the match route', () => {
    expect(() => requestMix(new Set([ROUTE_OF.match]))).toThrow('/v1/staff/card-lookup');
    expect(() => requestMix(new Set([ROUTE_OF['staff-lookup']]))).toThrow('/v1/matches');
  });
});

describe('write bodies', () => {
  it('makes people the seeded registry does not hold: cards and persons from `cards` on', () => {
    const people = newPersons(1000, 3, new Random(1));
    expect(people.map((p) => p.cardNo)).toEqual([1000, 1001, 1002].map(syntheticCardNo));
    expect(people.map((p) => p.tcKimlikNo)).toEqual([1000, 1001, 1002].map(syntheticTc));
    for (const p of people) {
      expect(isValidTcKimlikNo(p.tcKimlikNo)).toBe(true);
      expect(p.hesCode).toMatch(/^[A-Z0-9]{10}$/);
    }
  });

  it('changes the HES code of seeded people from the last card down, each once', () => {
    const changes = hesChanges(1000, 3, new Random(2));
    expect(changes.map((p) => p.cardNo)).toEqual([999, 998, 997].map(syntheticCardNo));
    expect(changes.map((p) => p.tcKimlikNo)).toEqual([999, 998, 997].map(syntheticTc));
    expect(() => hesChanges(2, 3, new Random(2))).toThrow(RangeError);
  });

  it('hands each body out once and says when the pool ran out', () => {
    const people = newPersons(0, 2, new Random(3));
    const pool = new WritePool(people);
    expect(pool.take()).toBe(people[0]);
    expect(pool.take()).toBe(people[1]);
    expect(pool.exhausted).toBe(false);
    expect(pool.take()).toBeUndefined();
    expect(pool.exhausted).toBe(true);
    expect(pool.used).toBe(2);
  });

  it('sizes the pools for a write kind taking up to 2 of 10 requests, with a margin', () => {
    expect(writesNeeded(10_000, 13)).toBe(39_000);
  });

  it('writes the stand-in data with one RISKY code in ten', () => {
    const people = newPersons(0, 10, new Random(4));
    const lines = standInCsv(people).trim().split('\n');
    expect(lines[0]).toBe('hes_code,tc_kimlik_no,status');
    expect(lines[1]).toBe(`${people[0]?.hesCode},${people[0]?.tcKimlikNo},RISKLESS`);
    expect(lines.filter((l) => l.endsWith(',RISKY'))).toHaveLength(1);
  });

  it('puts into each body the fields its route takes, no more', () => {
    const person = {
      cardNo: '04000000000000AB',
      tcKimlikNo: '10000000146',
      hesCode: 'ABCD1234X9',
      cardKind: 'PERSONAL' as const,
    };
    expect(JSON.parse(bodyOf('staff-lookup', person))).toEqual({ cardNo: person.cardNo });
    expect(JSON.parse(bodyOf('own-match', person))).toEqual({
      cardNo: person.cardNo,
      tcKimlikNo: person.tcKimlikNo,
    });
    expect(JSON.parse(bodyOf('match', person))).toEqual(person);
    expect(JSON.parse(bodyOf('hes-change', person))).toEqual({
      cardNo: person.cardNo,
      tcKimlikNo: person.tcKimlikNo,
      hesCode: person.hesCode,
    });
  });
});

describe('answers', () => {
  it('accepts a write only with the outcome of a fresh body', () => {
    expect(writeOutcomeOk('match', '{"outcome":"MATCHED"}')).toBe(true);
    expect(writeOutcomeOk('match', '{"outcome":"UNCHANGED"}')).toBe(false);
    expect(writeOutcomeOk('hes-change', '{"outcome":"CHANGED"}')).toBe(true);
    expect(writeOutcomeOk('hes-change', 'not json')).toBe(false);
    expect(writeOutcomeOk('staff-lookup', '')).toBe(true);
  });

  it('reads the code of an error body', () => {
    expect(errorCodeOf('{"code":"CARD_TAKEN","field":"cardNo"}')).toBe('CARD_TAKEN');
    expect(errorCodeOf('<html>')).toBe('-');
    expect(errorCodeOf('{"message":"x"}')).toBe('-');
  });
});

describe('checkRun', () => {
  const run = {
    label: 'mix',
    responses: 10_000,
    failures: new Map<string, number>(),
    errors: 0,
    timeouts: 0,
    exhausted: [],
  };

  it('gives the failed share when it is at most 0.1 %', () => {
    expect(checkRun({ ...run, failures: new Map([['match 409 CARD_TAKEN', 10]]) })).toBeCloseTo(0.001);
  });

  it('fails loudly above 0.1 %, naming what failed', () => {
    expect(() =>
      checkRun({ ...run, failures: new Map([['match 409 CARD_TAKEN', 8]]), errors: 2, timeouts: 1 }),
    ).toThrow(/11 of 10000 requests failed.*match 409 CARD_TAKEN ×8, connection errors ×2, timeouts ×1/);
  });

  it('refuses a run whose write bodies ran out or that got no answer', () => {
    expect(() => checkRun({ ...run, exhausted: ['match'] })).toThrow('match bodies ran out');
    expect(() => checkRun({ ...run, responses: 0 })).toThrow('no response');
  });
});

describe('latencies', () => {
  it('takes percentiles by nearest rank', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 0.5)).toBe(50);
    expect(percentile(sorted, 0.99)).toBe(99);
    expect(percentile([], 0.5)).toBeNaN();
  });

  it('summarises unsorted latencies', () => {
    expect(summariseLatencies([3, 1, 2, 10])).toEqual({ count: 4, p50: 2, p99: 10, max: 10 });
  });
});

describe('server times', () => {
  const metrics = (sum: number, count: number) =>
    [
      '# TYPE registry_api_request_seconds histogram',
      'registry_api_request_seconds_bucket{le="0.005",route="/v1/matches"} 1',
      `registry_api_request_seconds_sum{route="/v1/matches"} ${sum}`,
      `registry_api_request_seconds_count{route="/v1/matches"} ${count}`,
      'registry_api_request_seconds_sum{route="/healthz"} 0.5',
      'registry_api_request_seconds_count{route="/healthz"} 100',
    ].join('\n');

  it('reads the per-route sums and counts and keeps what changed between two scrapes', () => {
    expect(serverTimes(metrics(1.5, 10)).get('/v1/matches')).toEqual({ seconds: 1.5, count: 10 });
    const delta = serverTimesBetween(serverTimes(metrics(1.5, 10)), serverTimes(metrics(4.5, 110)));
    expect([...delta]).toEqual([['/v1/matches', { seconds: 3, count: 100 }]]);
  });
});

describe('loggedField', () => {
  it('finds the address a service logged once listening, skipping other lines', () => {
    const log = [
      'not json',
      '{"level":30,"msg":"starting"}',
      '{"level":30,"msg":"registry API listening","address":"http://127.0.0.1:4321"}',
      '{"level":30,"address":',
    ].join('\n');
    expect(loggedField(log, 'address')).toBe('http://127.0.0.1:4321');
    expect(loggedField(log, 'url')).toBeUndefined();
  });
});

describe('cpuSecondsBetween', () => {
  it('sums what each process used since, counting a new one whole and a gone one not at all', () => {
    const before = new Map([
      [10, 5],
      [11, 1],
    ]);
    const after = new Map([
      [10, 7.5],
      [12, 0.5],
    ]);
    expect(cpuSecondsBetween(before, after)).toBeCloseTo(3);
  });
});

describe('registryLinePart', () => {
  it('puts whole cards into each part by card index', () => {
    const line = (i: number) =>
      `${syntheticCardNo(i)},${syntheticTc(i)},ABCD1234X9,PERSONAL,2020-11-01T00:00:00.000Z,`;
    expect([0, 499, 500, 999].map((i) => registryLinePart(line(i), 1000, 2))).toEqual([0, 0, 1, 1]);
    expect(registryLinePart(line(7), 1000, 1)).toBe(0);
    expect(() => registryLinePart(line(1000), 1000, 2)).toThrow(RangeError);
  });
});
