import type { CardKind } from '@boarding/contracts/card-no';
import { syntheticCardNo, syntheticHes, syntheticTc } from '@boarding/simulator/identities';
import type { Random } from '@boarding/simulator/random';

/**
 * The pure parts of the `registry-api` bench: which requests the load sends in which order, the
 * bodies they carry, and what a run's responses add up to. No I/O here, so all of it is tested.
 */

/** One kind of request of the load, by the operation it exercises (SPEC §9). */
export type RequestKind = 'staff-lookup' | 'own-match' | 'match' | 'hes-change';

export const ROUTE_OF: Record<RequestKind, string> = {
  'staff-lookup': '/v1/staff/card-lookup',
  'own-match': '/v1/matches/current',
  match: '/v1/matches',
  'hes-change': '/v1/matches/hes-code',
};

/** Lookups read, writes change the registry; each write body is used once. */
export const WRITE_KINDS: ReadonlySet<RequestKind> = new Set(['match', 'hes-change']);

/**
 * The sequence every connection cycles through: 10 slots, 8 lookups and 2 writes (80 % / 20 %),
 * the writes apart so a connection never sends two in a row. Lookups alternate the staff lookup
 * and the citizen's own match, writes a new match and a HES change; an operation the server does
 * not have (`paths`, read from its /openapi.json) is replaced by the other of its pair.
 */
export function requestMix(paths: ReadonlySet<string>): RequestKind[] {
  const has = (kind: RequestKind) => paths.has(ROUTE_OF[kind]);
  for (const required of ['staff-lookup', 'match'] as const) {
    if (!has(required)) throw new Error(`the server has no ${ROUTE_OF[required]}: nothing to measure`);
  }
  const second: RequestKind = has('own-match') ? 'own-match' : 'staff-lookup';
  const write: RequestKind = has('hes-change') ? 'hes-change' : 'match';
  return [
    'staff-lookup',
    second,
    'staff-lookup',
    second,
    'match',
    'staff-lookup',
    second,
    'staff-lookup',
    second,
    write,
  ];
}

/**
 * Which of `parts` import files a line of the simulator's registry CSV goes to: by its card's
 * index (`syntheticCardNo(i)` is `04` and i in 14 hex digits), so every file holds whole cards,
 * and card i's person (`syntheticTc(i)`) is in no other file.
 */
export function registryLinePart(line: string, cards: number, parts: number): number {
  const card = Number.parseInt(line.slice(2, 16), 16);
  if (!(card >= 0 && card < cards)) throw new RangeError(`not a line of a registry of ${cards} cards`);
  return Math.floor((card * parts) / cards);
}

/** A person with a card and a HES code, as a request body carries them. */
export type Person = { cardNo: string; tcKimlikNo: string; hesCode: string; cardKind: CardKind };

/**
 * People the registry does not know yet: card and person `from + i` (the seeded registry holds
 * cards and persons 0 … from-1, `syntheticCardNo(i)` matched to `syntheticTc(i)`), each with a
 * new HES code. The bodies of `POST /v1/matches`.
 */
export function newPersons(from: number, count: number, random: Random): Person[] {
  return Array.from({ length: count }, (_, i) => ({
    cardNo: syntheticCardNo(from + i),
    tcKimlikNo: syntheticTc(from + i),
    hesCode: syntheticHes(random),
    cardKind: i % 5 < 3 ? ('PERSONAL' as const) : ('ANONYMOUS' as const),
  }));
}

/**
 * New HES codes for matched people, from the last seeded card down (`cards` matched cards), one
 * change per person. The bodies of `POST /v1/matches/hes-code` (its cardKind is not sent).
 */
export function hesChanges(cards: number, count: number, random: Random): Person[] {
  if (count > cards) throw new RangeError(`${count} HES changes need as many of the ${cards} matched cards`);
  return Array.from({ length: count }, (_, i) => ({
    cardNo: syntheticCardNo(cards - 1 - i),
    tcKimlikNo: syntheticTc(cards - 1 - i),
    hesCode: syntheticHes(random),
    cardKind: 'PERSONAL' as const,
  }));
}

/**
 * The HES stand-in's data file (`hes_code,tc_kimlik_no,status`, packages/hes README): every code
 * the writes present belongs to its person. One in ten is RISKY, so the load also records risky
 * matches (SPEC §9: they are matched, with their status).
 */
export function standInCsv(people: readonly Person[]): string {
  const lines = people.map((p, i) => `${p.hesCode},${p.tcKimlikNo},${i % 10 === 9 ? 'RISKY' : 'RISKLESS'}`);
  return `hes_code,tc_kimlik_no,status\n${lines.join('\n')}\n`;
}

/** The JSON body of one request of `kind`. */
export function bodyOf(kind: RequestKind, person: Person): string {
  switch (kind) {
    case 'staff-lookup':
      return JSON.stringify({ cardNo: person.cardNo });
    case 'own-match':
      return JSON.stringify({ cardNo: person.cardNo, tcKimlikNo: person.tcKimlikNo });
    case 'match':
      return JSON.stringify({
        cardNo: person.cardNo,
        tcKimlikNo: person.tcKimlikNo,
        hesCode: person.hesCode,
        cardKind: person.cardKind,
      });
    case 'hes-change':
      return JSON.stringify({
        cardNo: person.cardNo,
        tcKimlikNo: person.tcKimlikNo,
        hesCode: person.hesCode,
      });
  }
}

/** Each write body once, in order; `undefined` once a pool is used up. */
export class WritePool {
  private next = 0;

  constructor(private readonly people: readonly Person[]) {}

  take(): Person | undefined {
    return this.people[this.next++];
  }

  get used(): number {
    return Math.min(this.next, this.people.length);
  }

  get exhausted(): boolean {
    return this.next > this.people.length;
  }
}

/** A matched person of the seeded registry, drawn uniformly: the lookups' body. */
export function randomMatched(cards: number, random: Random): Person {
  const i = random.int(0, cards - 1);
  return { cardNo: syntheticCardNo(i), tcKimlikNo: syntheticTc(i), hesCode: '', cardKind: 'PERSONAL' };
}

/**
 * Write bodies of one kind needed for a run: a write kind takes 1 of 10 requests, or 2 when the
 * server lacks the other (`requestMix`), at up to `maxRate` requests/s for `seconds` (warm-up and
 * measured load), with a margin of one half. The stand-in's data is written before the server
 * says which routes it has, so the pools are sized for the larger share.
 */
export function writesNeeded(maxRate: number, seconds: number): number {
  return Math.ceil(maxRate * seconds * 0.2 * 1.5);
}

/** The value below which a share `p` of the sorted values lies (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? Number.NaN;
}

export type LatencySummary = { count: number; p50: number; p99: number; max: number };

export function summariseLatencies(latencies: readonly number[]): LatencySummary {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) ?? Number.NaN,
  };
}

/** What went wrong in a run, by `kind status code` (`match 409 CARD_TAKEN`), and how often. */
export type Failures = Map<string, number>;

/** The largest share of failed requests a run may have and still give a figure. */
export const MAX_FAILED_SHARE = 0.001;

/**
 * A run whose requests failed measured something else (errors are cheap to answer): more than
 * 0.1 % failed responses, connection errors or timeouts, or a write pool used up, and the run
 * gives no figure. Returns the share that failed.
 */
export function checkRun(run: {
  label: string;
  responses: number;
  failures: Failures;
  errors: number;
  timeouts: number;
  exhausted: readonly string[];
}): number {
  if (run.exhausted.length > 0) {
    throw new Error(
      `${run.label}: the ${run.exhausted.join(' and ')} bodies ran out; the mix was not the one intended`,
    );
  }
  if (run.responses === 0) throw new Error(`${run.label}: no response at all`);
  const failed = [...run.failures.values()].reduce((a, b) => a + b, 0) + run.errors + run.timeouts;
  const share = failed / (run.responses + run.errors + run.timeouts);
  if (share > MAX_FAILED_SHARE) {
    const top = [...run.failures.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5)
      .map(([what, n]) => `${what} ×${n}`);
    if (run.errors > 0) top.push(`connection errors ×${run.errors}`);
    if (run.timeouts > 0) top.push(`timeouts ×${run.timeouts}`);
    throw new Error(
      `${run.label}: ${failed} of ${run.responses} requests failed (${(share * 100).toFixed(2)} % > ${MAX_FAILED_SHARE * 100} %): ${top.join(', ')}`,
    );
  }
  return share;
}

/** The `code` of a JSON error body (`{"code": …}`), or `-` when it has none. */
export function errorCodeOf(body: string): string {
  try {
    const parsed: unknown = JSON.parse(body);
    if (
      typeof parsed === 'object' &&
      parsed !== null &&
      'code' in parsed &&
      typeof parsed.code === 'string'
    ) {
      return parsed.code;
    }
  } catch {
    // not JSON: reported as "-"
  }
  return '-';
}

/**
 * Whether a 2xx answer to a write did what the load meant: a new match is `MATCHED` (a fresh card
 * and person), a HES change `CHANGED`. `UNCHANGED` would mean a body was used twice.
 */
export function writeOutcomeOk(kind: RequestKind, body: string): boolean {
  if (!WRITE_KINDS.has(kind)) return true;
  const expected = kind === 'match' ? 'MATCHED' : 'CHANGED';
  try {
    const parsed = JSON.parse(body) as { outcome?: unknown };
    return parsed.outcome === expected;
  } catch {
    return false;
  }
}

/** Time the server spent answering, per route pattern: its `registry_api_request_seconds`. */
export type ServerTimes = Map<string, { seconds: number; count: number }>;

const SERVER_TIME_LINE = /^registry_api_request_seconds_(sum|count)\{route="([^"]*)"\} ([0-9.eE+-]+)$/;

/** The per-route sums and counts of the API's request histogram, from its /metrics text. */
export function serverTimes(metrics: string): ServerTimes {
  const times: ServerTimes = new Map();
  for (const line of metrics.split('\n')) {
    const m = SERVER_TIME_LINE.exec(line);
    if (!m) continue;
    const [, which, route = '', value] = m;
    const entry = times.get(route) ?? { seconds: 0, count: 0 };
    if (which === 'sum') entry.seconds = Number(value);
    else entry.count = Number(value);
    times.set(route, entry);
  }
  return times;
}

/** `after - before` per route, routes without requests in between left out. */
export function serverTimesBetween(before: ServerTimes, after: ServerTimes): ServerTimes {
  const delta: ServerTimes = new Map();
  for (const [route, a] of after) {
    const b = before.get(route) ?? { seconds: 0, count: 0 };
    if (a.count > b.count) delta.set(route, { seconds: a.seconds - b.seconds, count: a.count - b.count });
  }
  return delta;
}
