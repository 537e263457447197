import { CardKind, CardNo } from '@boarding/contracts/card-no';
import type { Db } from '@boarding/db/client';
import type { Keyring } from '@boarding/encryption/keyring';
import type { ApiKeyChannel } from '@boarding/registry/api-keys/api-key-format';
import type { ApiClient } from '@boarding/registry/verbs/authenticate-api-key';
import { findMatchAt } from '@boarding/registry/verbs/find-match-at';
import { z } from 'zod';
import { ApiError } from './api-error';

/** What a route handler may use: the registry's clients, never the request object. */
export type RouteDeps = { db: Db; keyring: Keyring; now: () => Date };

/**
 * One route of the API: the schemas that check its request are the ones /openapi.json shows,
 * because both are read from this one definition.
 */
export type RouteDefinition<Body extends z.ZodType = z.ZodType, Params extends z.ZodType = z.ZodType> = {
  method: 'GET' | 'POST';
  url: string;
  summary: string;
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
];
