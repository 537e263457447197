import { maskCardNo, maskHes, maskTc } from '@boarding/contracts/mask';
import type { UnmatchedPerson } from '@boarding/simulator/day';
import { z } from 'zod';

/**
 * The clients of the registry API the demo plays (SPEC §9): one key per channel, kiosks and
 * activation points at a location of the seeded list (`boarding apikey locations`).
 */
export const DEMO_CLIENTS = [
  { channel: 'WEB', location: null },
  { channel: 'KIOSK', location: 'metro-konak' },
  { channel: 'ACTIVATION_POINT', location: 'pier-karsiyaka' },
  { channel: 'STAFF', location: null },
] as const;
export type DemoClient = (typeof DEMO_CLIENTS)[number];
export type DemoChannel = DemoClient['channel'];
/** The channels a citizen matches a card through: one match each. */
export const CITIZEN_CLIENTS = DEMO_CLIENTS.filter(
  (c): c is Exclude<DemoClient, { channel: 'STAFF' }> => c.channel !== 'STAFF',
);

/** `boarding apikey create …` for one client: the key comes back once, on stdout, as JSON. */
export function apiKeyCreateArgs(client: DemoClient): string[] {
  const location = client.location === null ? [] : ['--location', client.location];
  return ['apikey', 'create', '--channel', client.channel, ...location, '--label', 'boarding demo', '--json'];
}

/** What `apikey create --json` prints; the key is kept in memory and never printed. */
export const CreatedApiKey = z.object({ id: z.string().min(1), key: z.string().min(1) });
export type CreatedApiKey = z.infer<typeof CreatedApiKey>;

/** The body of `POST /v1/matches` for a person of the simulated day. */
export const matchRequestOf = (p: UnmatchedPerson) => ({
  cardNo: p.cardNo,
  tcKimlikNo: p.tcKimlikNo,
  hesCode: p.hesCode,
  cardKind: p.cardKind,
});

/**
 * The first `count` people of the day without a match (`DayPlan.unmatchedPeople()`), one per
 * citizen channel: their card is nobody's and they hold no other, so a match through the API is
 * accepted (never `CARD_TAKEN` or `MATCH_OVERLAP`) and ends nothing the imported registry holds.
 */
export function pickPeople(people: Iterable<UnmatchedPerson>, count: number): UnmatchedPerson[] {
  const picked: UnmatchedPerson[] = [];
  for (const p of people) {
    if (picked.length === count) break;
    picked.push(p);
  }
  if (picked.length < count) {
    throw new Error(`the simulated day has ${picked.length} unmatched people, the demo needs ${count}`);
  }
  return picked;
}

/** The parts of the API's answers the demo shows (all masked by the API, the card by the demo). */
const MatchAnswer = z.object({
  outcome: z.enum(['MATCHED', 'UNCHANGED']),
  hesStatus: z.enum(['RISKY', 'RISKLESS']),
  channel: z.string(),
});
const LookupAnswer = z.object({
  cardNo: z.string(),
  tcKimlikNo: z.string(),
  hesCode: z.string(),
  validFrom: z.string(),
  channel: z.string(),
});
const ErrorAnswer = z.object({ code: z.string(), message: z.string() });

/** One call of the demo to the API, as the summary shows it: no key, TC, HES or card in clear. */
export type DemoApiCall = {
  channel: DemoChannel;
  location: string | null;
  keyId: string;
  operation: 'POST /v1/matches' | 'POST /v1/staff/card-lookup';
  /** The card, masked. */
  card: string;
  status: number;
  /** MATCHED / UNCHANGED (a match), FOUND (the staff lookup). */
  outcome: string;
  /** RISKY / RISKLESS for a match; for the lookup, the match found (masked). */
  detail: string;
};

/** An answer of the API the demo did not expect: the demo fails, naming the code the API gave. */
export class DemoApiError extends Error {
  readonly code = 'DEMO_API_CALL_FAILED';
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'DemoApiError';
  }
}

/**
 * Reads a `POST /v1/matches` answer into the summary's row; anything but 201 (a 409 `CARD_TAKEN` or
 * `MATCH_OVERLAP` above all: the demo chose people who hold no match) is a `DemoApiError`. The
 * API's error messages carry no TC or HES in clear (SPEC §9), and the card is masked here.
 */
export function readMatchAnswer(
  client: { channel: DemoChannel; location: string | null; keyId: string },
  cardNo: string,
  status: number,
  body: unknown,
): DemoApiCall {
  const card = maskCardNo(cardNo);
  if (status !== 201)
    throw new DemoApiError(`the ${client.channel} match of card ${card}: ${failure(status, body)}`);
  const answer = MatchAnswer.parse(body);
  return {
    ...client,
    operation: 'POST /v1/matches',
    card,
    status,
    outcome: answer.outcome,
    detail: `HES ${answer.hesStatus}`,
  };
}

/** Reads a `POST /v1/staff/card-lookup` answer: 200 with the card's current match, masked. */
export function readLookupAnswer(
  client: { channel: DemoChannel; location: string | null; keyId: string },
  cardNo: string,
  status: number,
  body: unknown,
): DemoApiCall {
  const card = maskCardNo(cardNo);
  if (status !== 200) throw new DemoApiError(`the STAFF lookup of card ${card}: ${failure(status, body)}`);
  const answer = LookupAnswer.parse(body);
  // The API masks TC and HES already; masked again so that nothing in clear is ever printed.
  return {
    ...client,
    operation: 'POST /v1/staff/card-lookup',
    card,
    status,
    outcome: 'FOUND',
    detail: `matched via ${answer.channel} since ${answer.validFrom}: TC ${maskTc(answer.tcKimlikNo)}, HES ${maskHes(answer.hesCode)}`,
  };
}

function failure(status: number, body: unknown): string {
  const error = ErrorAnswer.safeParse(body);
  return error.success ? `HTTP ${status} ${error.data.code}: ${error.data.message}` : `HTTP ${status}`;
}

/** POST `path` of the API with a key and a JSON body; resolves with the status and the JSON answer. */
export async function postJson(
  base: string,
  path: string,
  key: string,
  body: unknown,
): Promise<{ status: number; body: unknown }> {
  // The HES check may retry (HES_RETRIES × HES_TIMEOUT_MS): well within this.
  const response = await fetch(new URL(path, base), {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: the status alone tells the failure.
  }
  return { status: response.status, body: parsed };
}
