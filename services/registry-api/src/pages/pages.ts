import { html } from '@boarding/ops-http/html';
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { type ApiError, logUnexpected, requestFailure } from '../api-error';
import type { RouteDeps } from '../route-definition';
import { registerCitizenPages } from './citizen-pages';
import { registerDevicePage } from './device-page';
import { sendPage } from './layout';
import type { PageContext, PagesOptions } from './page-context';
import { registerStaffPages } from './staff-pages';
import { turkishMessage } from './turkish-messages';

export type { PagesOptions };

const FORM = 'application/x-www-form-urlencoded';

/**
 * The Turkish pages (`/`, `/hes-degistir`, `/kayip-kart`, `/eslesmem`, `/staff`, `/device`) in
 * their own fastify scope: only there are form bodies parsed (and nothing else is), and errors
 * render as pages. The /v1 API outside the scope stays JSON-only (a form body there is still 415).
 */
export function registerPages(app: FastifyInstance, deps: RouteDeps, options: PagesOptions): void {
  const ctx: PageContext = { deps, options };
  app.register(async (scope) => {
    // Forms only: a page never reads JSON, so a JSON (or any other) body is 415 here too.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      FORM,
      { parseAs: 'string', bodyLimit: options.bodyLimitBytes },
      (_r, body, done) => done(null, parseForm(String(body))),
    );
    scope.addHook('onRequest', async (request, reply) => {
      if (request.method !== 'POST' || !foreignOrigin(request)) return;
      await sendPage(reply, 403, {
        title: 'İşlem yapılmadı',
        main: html`<h1>İşlem yapılmadı</h1><div class="notice" role="alert"><p>${turkishMessage({ code: 'FOREIGN_ORIGIN' }, null)}</p><p><a href="/">Ana sayfa</a></p></div>`,
      });
      return reply;
    });
    scope.setErrorHandler(async (err: FastifyError | ApiError, request, reply) => {
      logUnexpected(err, request.routeOptions.url, options.log);
      const error = requestFailure(err, 'a form');
      await sendPage(reply, error.status, {
        title: 'İşlem yapılmadı',
        main: html`<h1>İşlem yapılmadı</h1><div class="notice" role="alert"><p>${turkishMessage(error, null)}</p><p><a href="${request.routeOptions.url === '/staff' ? '/staff' : '/'}">Geri dön</a></p></div>`,
      });
      return reply;
    });
    registerDevicePage(scope, ctx);
    registerCitizenPages(scope, ctx);
    registerStaffPages(scope, ctx);
  });
}

/**
 * A form body as name → value. A repeated name keeps its first value; the values are the raw
 * strings the schemas check (URLSearchParams already decodes `+` and percent escapes).
 */
export function parseForm(body: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(body)) {
    if (!(name in out)) out[name] = value;
  }
  return out;
}

/**
 * CSRF defence in depth (the cookie is SameSite=Strict already): a form post whose Origin is
 * present and not this host is refused before anything runs. Hosts, not schemes, are compared:
 * TLS ends at the proxy, so this server sees http where the browser said https. `Origin: null`
 * (a sandboxed or privacy-stripped context) counts as foreign.
 */
export function foreignOrigin(request: Pick<FastifyRequest, 'headers' | 'host'>): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return false;
  try {
    const from = new URL(origin);
    // Through URL both sides, so a default port (`:80` in Host, absent in Origin) compares equal.
    return from.host !== new URL(`${from.protocol}//${request.host}`).host;
  } catch {
    return true;
  }
}
