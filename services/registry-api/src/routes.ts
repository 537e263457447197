import { API_KEY_CHANNELS as ALL_CHANNELS } from '@boarding/registry/api-keys/api-key-format';
import { z } from 'zod';
import { CITIZEN_ROUTES } from './citizen-routes';
import { defineRoute, type RouteDefinition } from './route-definition';
import { STAFF_ROUTES } from './staff-routes';

export const MeResponse = z.object({
  keyId: z.string(),
  channel: z.enum(ALL_CHANNELS),
  locationId: z.string().nullable(),
});

/** Every /v1 route: what the API mounts, /openapi.json documents and the pages call. */
export const ROUTES: readonly RouteDefinition[] = [
  defineRoute({
    method: 'GET',
    url: '/v1/me',
    summary: 'The channel and location of the calling key',
    channels: ALL_CHANNELS,
    response: MeResponse,
    handler: async ({ client }) => client,
  }),
  ...CITIZEN_ROUTES,
  ...STAFF_ROUTES,
];

/** The route at this method and URL (the pages call routes by their API address). */
export function routeAt(method: RouteDefinition['method'], url: string): RouteDefinition {
  const route = ROUTES.find((r) => r.method === method && r.url === url);
  if (!route) throw new Error(`no route ${method} ${url}`);
  return route;
}
