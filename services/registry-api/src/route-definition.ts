import type { Db } from '@boarding/db/client';
import type { Keyring } from '@boarding/encryption/keyring';
import type { HesVerifier } from '@boarding/hes/verifier';
import type { ApiKeyChannel } from '@boarding/registry/api-keys/api-key-format';
import type { Actor, RegistryContext } from '@boarding/registry/context';
import type { ApiClient } from '@boarding/registry/verbs/authenticate-api-key';
import type { z } from 'zod';
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

export const defineRoute = <Body extends z.ZodType = z.ZodType, Params extends z.ZodType = z.ZodType>(
  route: RouteDefinition<Body, Params>,
): RouteDefinition => route as unknown as RouteDefinition;

export const CITIZEN_CHANNELS = ['WEB', 'KIOSK', 'ACTIVATION_POINT'] as const;
export type CitizenChannel = (typeof CITIZEN_CHANNELS)[number];

/**
 * The registry's actor for an API call: its channel, key id and location (audited in their own
 * columns, SPEC §9), and an `apikey:<id>[@<location>]` id for the matches' `actor` text.
 */
export function actorOf(client: ApiClient): Actor {
  const location = client.locationId === null ? '' : `@${client.locationId}`;
  return {
    id: `apikey:${client.keyId}${location}`,
    channel: client.channel,
    keyId: client.keyId,
    locationId: client.locationId,
  };
}

/** A registry verb's context for a call of this client. */
export function contextOf(client: ApiClient, deps: RouteDeps): RegistryContext {
  return { db: deps.db, keyring: deps.keyring, actor: actorOf(client), now: deps.now };
}

/**
 * The per-TC limit (SPEC §9), taken before anything is asked or looked up: one person's number
 * cannot be tried across many cards (or keys, or HES codes) faster than this, and a refused
 * attempt still counts.
 */
export async function takeTcAttempt(deps: RouteDeps, tcKimlikNo: string): Promise<void> {
  const decision = await deps.limits.tc(tcKimlikNo);
  if (!decision.ok) throw ApiError.rateLimited(decision.retryAfterSeconds, 'tcKimlikNo');
}
