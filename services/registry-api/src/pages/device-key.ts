import { type ApiClient, authenticateApiKey } from '@boarding/registry/verbs/authenticate-api-key';
import type { FastifyRequest } from 'fastify';
import type { RouteDeps } from '../route-definition';

/**
 * Which API key a page request acts with. A kiosk, an activation point or a staff browser is
 * provisioned once at /device: the key lives in an HttpOnly cookie, so the page's JavaScript
 * cannot read it and every request is authenticated (and audited) as that key. A browser without
 * one is a citizen's own device, served with the deployment's WEB key (REGISTRY_API_WEB_PAGE_KEY).
 */
export const DEVICE_COOKIE = 'boarding_device';

// Browsers keep a cookie at most 400 days; a device is provisioned once, so ask for all of it.
const DEVICE_COOKIE_MAX_AGE_SECONDS = 400 * 24 * 60 * 60;

// Our keys are `bk_<id>_<secret>` in [A-Za-z0-9_-]; anything else in the cookie is not one of
// ours and is not looked up.
const COOKIE_KEY = /^[A-Za-z0-9_-]{1,128}$/;

/** One cookie's value from a Cookie header; the first one wins, as browsers send the most specific first. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    return value;
  }
  return undefined;
}

/** The Set-Cookie value that provisions this device with `key`. */
export function deviceCookie(key: string, secure: boolean): string {
  if (!COOKIE_KEY.test(key)) throw new RangeError('deviceCookie: not an API key');
  return cookieWith(`${DEVICE_COOKIE}=${key}`, `Max-Age=${DEVICE_COOKIE_MAX_AGE_SECONDS}`, secure);
}

/** The Set-Cookie value that makes this device forget its key. */
export function forgetDeviceCookie(secure: boolean): string {
  return cookieWith(`${DEVICE_COOKIE}=`, 'Max-Age=0', secure);
}

// SameSite=Strict: no other site can make this browser post a form with the device's key.
const cookieWith = (pair: string, age: string, secure: boolean): string =>
  [pair, 'Path=/', age, 'HttpOnly', 'SameSite=Strict', ...(secure ? ['Secure'] : [])].join('; ');

export type DeviceKey =
  | { kind: 'none' }
  /** A cookie is there, but its key is malformed, unknown or revoked. */
  | { kind: 'rejected' }
  | { kind: 'device'; client: ApiClient };

/** The device's own key (the cookie), authenticated. */
export async function deviceKeyOf(request: FastifyRequest, deps: Pick<RouteDeps, 'db'>): Promise<DeviceKey> {
  const key = readCookie(request.headers.cookie, DEVICE_COOKIE);
  if (key === undefined || key === '') return { kind: 'none' };
  if (!COOKIE_KEY.test(key)) return { kind: 'rejected' };
  const client = await authenticateApiKey({ ctx: { db: deps.db }, key });
  return client === null ? { kind: 'rejected' } : { kind: 'device', client };
}

export type PageKey =
  | { ok: true; client: ApiClient; via: 'device' | 'web-page-key' }
  | {
      ok: false;
      /**
       * NOT_SET_UP: no device key and no web page key. DEVICE_KEY_REJECTED: the device's key was
       * revoked (no fallback to the web key: a kiosk must not quietly become a WEB client).
       * WEB_PAGE_KEY_REJECTED / WEB_PAGE_KEY_NOT_WEB: the deployment's key is revoked or not WEB.
       */
      reason: 'NOT_SET_UP' | 'DEVICE_KEY_REJECTED' | 'WEB_PAGE_KEY_REJECTED' | 'WEB_PAGE_KEY_NOT_WEB';
    };

/** The key of a citizen page: the device's, else the deployment's WEB key. */
export async function citizenPageKey(
  request: FastifyRequest,
  deps: Pick<RouteDeps, 'db'>,
  webPageKey: string | undefined,
): Promise<PageKey> {
  const device = await deviceKeyOf(request, deps);
  if (device.kind === 'device') return { ok: true, client: device.client, via: 'device' };
  if (device.kind === 'rejected') return { ok: false, reason: 'DEVICE_KEY_REJECTED' };
  if (webPageKey === undefined) return { ok: false, reason: 'NOT_SET_UP' };
  const client = await authenticateApiKey({ ctx: { db: deps.db }, key: webPageKey });
  if (client === null) return { ok: false, reason: 'WEB_PAGE_KEY_REJECTED' };
  // Only a WEB key: a staff or kiosk key given to the public page would hand every visitor its
  // powers or its location in the audit.
  if (client.channel !== 'WEB') return { ok: false, reason: 'WEB_PAGE_KEY_NOT_WEB' };
  return { ok: true, client, via: 'web-page-key' };
}
