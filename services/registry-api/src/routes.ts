import { CardKind, CardNo } from '@boarding/contracts/card-no';
import { HesCode } from '@boarding/contracts/hes-code';
import { maskHes, maskTc } from '@boarding/contracts/mask';
import { TcKimlikNo } from '@boarding/contracts/tc-kimlik';
import type { Db } from '@boarding/db/client';
import type { Keyring } from '@boarding/encryption/keyring';
import type { HesVerifier } from '@boarding/hes/verifier';
import type { ApiKeyChannel } from '@boarding/registry/api-keys/api-key-format';
import type { ApiClient } from '@boarding/registry/verbs/authenticate-api-key';
import { findMatchAt } from '@boarding/registry/verbs/find-match-at';
import { matchCard } from '@boarding/registry/verbs/match-card';
import { z } from 'zod';
import { ApiError } from './api-error';
import type { RateLimiters } from './rate-limit';

/** What a route handler may use: the registry's clients, never the request object. */
export type RouteDeps = { db: Db; keyring: Keyring; now: () => Date; hes: HesVerifier; limits: RateLimiters };

/**
 * One route of the API: the schemas that check its request are the ones /openapi.json shows,
 * because both are read from this one definition.
 */
export type RouteDefinition<Body extends z.ZodType = z.ZodType, Params extends z.ZodType = z.ZodType> = {
  method: 'GET' | 'POST';
  url: string;
  summary: string;
  /** The success status (200 unless said). */
  status?: 200 | 201;
  /** This route's own error statuses for /openapi.json, besides the common ones. */
  errors?: Record<string, string>;
  /** The channels whose keys may call it (SPEC §9: each channel limited to its operations). */
  channels: readonly ApiKeyChannel[];
  body?: Body;
  params?: Params;
  response: z.ZodType;
  handler: (
    request: { client: ApiClient; body: z.output<Body>; params: z.output<Params> },
    deps: RouteDeps,
  ) => Promise<unknown>;
};

const defineRoute = <Body extends z.ZodType = z.ZodType, Params extends z.ZodType = z.ZodType>(
  route: RouteDefinition<Body, Params>,
): RouteDefinition => route as unknown as RouteDefinition;

const ALL_CHANNELS = ['WEB', 'KIOSK', 'ACTIVATION_POINT', 'STAFF'] as const;

export const MeResponse = z.object({
  keyId: z.string(),
  channel: z.enum(ALL_CHANNELS),
  locationId: z.string().nullable(),
});

// Masked only: this slice has no reveal path (SPEC §3: clear values are audited reads).
export const MaskedMatch = z.object({
  cardNo: z.string(),
  cardKind: CardKind,
  tcKimlikNo: z.string().describe('masked: *******6060'),
  hesCode: z.string().describe('masked: ****-****-X9'),
  validFrom: z.iso.datetime({ offset: true }),
  validTo: z.iso.datetime({ offset: true }).nullable(),
  channel: z.string().describe('the channel that made the match'),
});

// In the body, not the path: a card number with the tap history identifies a traveller, and
// URLs end up in proxy and access logs.
export const CardLookupRequest = z.strictObject({
  cardNo: CardNo.meta({ description: 'the printed card number: 8-20 characters of 0-9 A-F' }),
});

const CITIZEN_CHANNELS = ['WEB', 'KIOSK', 'ACTIVATION_POINT'] as const;

export const MatchRequest = z.strictObject({
  cardNo: CardNo.meta({ description: 'the printed card number: 8-20 characters of 0-9 A-F' }),
  tcKimlikNo: TcKimlikNo.meta({ description: 'TC kimlik no: 11 digits with the check digits of SPEC §3' }),
  hesCode: HesCode.meta({ description: 'HES code: 10 characters of A-Z 0-9, dashes and spaces ignored' }),
  cardKind: CardKind,
});

export const MatchResponse = z.object({
  matchId: z.number().int(),
  outcome: z.enum(['MATCHED', 'UNCHANGED']).describe('UNCHANGED: the same card, person and HES code again'),
  cardNo: z.string(),
  cardKind: CardKind,
  tcKimlikNo: z.string().describe('masked: *******6060'),
  hesCode: z.string().describe('masked: ****-****-X9'),
  hesStatus: z.enum(['RISKY', 'RISKLESS']).describe("the HES service's answer at the time of the match"),
  channel: z.enum(CITIZEN_CHANNELS),
  endedMatchIds: z.array(z.number().int()).describe("the person's previous card match, ended here"),
});

export const ROUTES: readonly RouteDefinition[] = [
  defineRoute({
    method: 'GET',
    url: '/v1/me',
    summary: 'The channel and location of the calling key',
    channels: ALL_CHANNELS,
    response: MeResponse,
    handler: async ({ client }) => client,
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/staff/card-lookup',
    summary: "A card's current match, masked (staff only)",
    channels: ['STAFF'],
    body: CardLookupRequest,
    response: MaskedMatch,
    handler: async ({ client, body }, deps) => {
      const match = await findMatchAt({
        ctx: { db: deps.db, keyring: deps.keyring, actor: { id: `apikey:${client.keyId}`, channel: 'API' } },
        input: { cardNo: body.cardNo, at: deps.now() },
      });
      if (match === null)
        throw new ApiError(404, 'NO_CURRENT_MATCH', 'the card has no current match', 'cardNo');
      return {
        cardNo: match.cardNo,
        cardKind: match.cardKind,
        tcKimlikNo: match.tcKimlikNo,
        hesCode: match.hesCode,
        validFrom: match.validFrom.toISOString(),
        validTo: match.validTo?.toISOString() ?? null,
        channel: match.channel,
      } satisfies z.input<typeof MaskedMatch>;
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/matches',
    summary: 'Match a card to a person and HES code, from now on (one step)',
    channels: CITIZEN_CHANNELS,
    status: 201,
    errors: {
      '409': 'CARD_TAKEN (the card is matched to another person) or MATCH_OVERLAP (a concurrent match)',
      '503': 'HES_SERVICE_UNAVAILABLE or DATABASE_UNAVAILABLE: nothing was matched; try again',
    },
    body: MatchRequest,
    response: MatchResponse,
    handler: async ({ client, body }, deps) => {
      // Per TC before anything is asked: one person's number cannot be tried across many cards
      // (or keys) faster than this, and a refused attempt still counts.
      const tcDecision = deps.limits.tc(body.tcKimlikNo);
      if (!tcDecision.ok) throw ApiError.rateLimited(tcDecision.retryAfterSeconds, 'tcKimlikNo');
      // Never a silent accept: a mismatch or an unavailable service throws, mapped in api-error.ts.
      const { status: hesStatus } = await deps.hes.verify({
        tcKimlikNo: body.tcKimlikNo,
        hesCode: body.hesCode,
      });
      const channel = client.channel as (typeof CITIZEN_CHANNELS)[number];
      const result = await matchCard({
        ctx: { db: deps.db, keyring: deps.keyring, actor: actorOf(client, channel), now: deps.now },
        input: {
          cardNo: body.cardNo,
          cardKind: body.cardKind,
          tcKimlikNo: body.tcKimlikNo,
          hesCode: body.hesCode,
        },
      });
      return {
        matchId: result.matchId,
        outcome: result.outcome,
        cardNo: body.cardNo,
        cardKind: body.cardKind,
        tcKimlikNo: maskTc(body.tcKimlikNo),
        hesCode: maskHes(body.hesCode),
        hesStatus,
        channel,
        endedMatchIds: result.endedMatchIds,
      } satisfies z.input<typeof MatchResponse>;
    },
  }),
];

/**
 * The audit's actor for an API call: `apikey:<key id>` and, for kiosks and activation points,
 * `@<location id>` (registry_audit and matches have an `actor` text and a `channel`, no location
 * column: the location travels in the actor until one is added).
 */
export function actorOf(client: ApiClient, channel: (typeof CITIZEN_CHANNELS)[number]) {
  const location = client.locationId === null ? '' : `@${client.locationId}`;
  return { id: `apikey:${client.keyId}${location}`, channel };
}
