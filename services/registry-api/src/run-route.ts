import type { ApiClient } from '@boarding/registry/verbs/authenticate-api-key';
import { ApiError, invalidRequest } from './api-error';
import type { RouteDefinition, RouteDeps } from './route-definition';

/**
 * One route's work for an authenticated client: the key's rate limit, the channel, the request's
 * schemas, the handler. The /v1 routes and the pages (pages/) both call it, so a page can do
 * nothing its key could not do through the API. Throws ApiError or the verbs' typed errors
 * (toApiError maps them).
 */
export async function runRoute(
  route: RouteDefinition,
  request: { client: ApiClient; body: unknown; params?: unknown },
  deps: RouteDeps,
): Promise<unknown> {
  const { client } = request;
  // Per key, counted before the channel check: a key hammering the wrong route is throttled too.
  const decision = deps.limits.key(client.keyId);
  if (!decision.ok) throw ApiError.rateLimited(decision.retryAfterSeconds);
  if (!route.channels.includes(client.channel)) {
    throw new ApiError(403, 'WRONG_CHANNEL', `a ${client.channel} key may not call this operation`);
  }
  const params = parsePart(route.params, request.params, 'params');
  const body = parsePart(route.body, request.body, 'body');
  return route.handler({ client, body, params }, deps);
}

function parsePart(schema: RouteDefinition['body'], value: unknown, part: 'body' | 'params'): unknown {
  if (schema === undefined) return undefined;
  const result = schema.safeParse(value ?? {});
  if (!result.success) throw invalidRequest(result.error, part);
  return result.data;
}
