import type { ApiClient } from '@boarding/registry/verbs/authenticate-api-key';
import { type ApiError, logUnexpected, toApiError } from '../api-error';
import type { RouteDeps } from '../route-definition';
import { routeAt } from '../routes';
import { runRoute } from '../run-route';

export type PagesOptions = {
  /** The deployment's WEB key for `/` on a device without its own key (REGISTRY_API_WEB_PAGE_KEY). */
  webPageKey?: string;
  /** Secure on the device cookie (REGISTRY_API_COOKIE_SECURE): on behind TLS. */
  cookieSecure: boolean;
  bodyLimitBytes: number;
  log: (entry: Record<string, unknown>, message: string) => void;
};

export type PageContext = { deps: RouteDeps; options: PagesOptions };

export type RouteOutcome =
  | { ok: true; value: Record<string, unknown> }
  | {
      ok: false;
      error: ApiError;
      /** For INVALID_INPUT: every field the route's schema refuses, not only the first. */
      invalidFields: string[];
    };

/**
 * One /v1 operation on behalf of a page: the same route definition and the same runRoute as the
 * API (key rate limit, channel, schema, handler), so a page can do nothing its key could not do
 * through the API, and no rule is written twice. Failures come back as the API's error, logged
 * once when they are not the client's.
 */
export async function callRoute(
  ctx: PageContext,
  client: ApiClient,
  url: string,
  body: Record<string, unknown>,
): Promise<RouteOutcome> {
  const route = routeAt('POST', url);
  try {
    const value = await runRoute(route, { client, body }, ctx.deps);
    return { ok: true, value: typeof value === 'object' && value !== null ? { ...value } : {} };
  } catch (err) {
    logUnexpected(err, url, ctx.options.log);
    const error = toApiError(err);
    // runRoute reports the first problem; the person fixes all of them at once. Same schema,
    // asked again only after the key, its rate limit and its channel were accepted.
    const invalidFields =
      error.code === 'INVALID_INPUT' && route.body !== undefined
        ? [
            ...new Set(
              (route.body.safeParse(body).error?.issues ?? []).map((i) => i.path.map(String).join('.')),
            ),
          ]
        : [];
    return { ok: false, error, invalidFields };
  }
}

/** A string from a route's answer (the pages read answers loosely: they only show them). */
export function text(value: Record<string, unknown>, name: string): string {
  const v = value[name];
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
}

/** The form's string fields; a repeated name keeps its first value. */
export function formFields(body: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof body !== 'object' || body === null) return out;
  for (const [k, v] of Object.entries(body)) {
    if (typeof v === 'string') out[k] = v;
  }
  return out;
}
