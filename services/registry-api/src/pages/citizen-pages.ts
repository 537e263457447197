import { type Html, html } from '@boarding/ops-http/html';
import type { ApiClient } from '@boarding/registry/verbs/authenticate-api-key';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { citizenPageKey, type PageKey } from './device-key';
import { errorSummary, type FieldError, facts, radioInput, sendPage, textInput } from './layout';
import { callRoute, formFields, type PageContext, type RouteOutcome, text } from './page-context';
import { cardKindName, channelName, dateTimeTr, emptyFieldMessage, turkishMessage } from './turkish-messages';

/**
 * The citizen's pages: `/` (match a card in one step), `/hes-degistir` (a new HES code),
 * `/kayip-kart` (a lost card replaced by a new one) and `/eslesmem` (the current match, masked).
 * Each is one form posting to its own URL, whose fields are named as the /v1 route's body, so the
 * form is the request. A TC kimlik no or HES code typed in never comes back in a page: after an
 * error those fields are empty (only the card number and kind are filled in again).
 */

type FieldKind = 'card' | 'tc' | 'hes' | 'kind';

type FieldSpec = { name: string; kind: FieldKind; label: string; hint?: string };

type SuccessView = { heading: string; lines: readonly string[]; rows: readonly [string, string][] };

type CitizenForm = {
  path: string;
  apiUrl: string;
  title: string;
  intro: string;
  submitLabel: string;
  fields: readonly FieldSpec[];
  /** The form field an API error belongs to (the API's field name by default; null: the form as a whole). */
  fieldOf?: (code: string, field: string | null) => string | null;
  success: (value: Record<string, unknown>) => SuccessView;
};

const CARD_HINT = 'Kartın arkasında yazan 8–20 karakterlik numara (0–9 ve A–F)';
const TC_HINT = '11 haneli numara';
const HES_HINT = 'Örnek: AB12-CD34-E9. Tire ve boşluklar yok sayılır.';

const maskedRows = (v: Record<string, unknown>): [string, string][] =>
  (
    [
      ['Kart numarası', text(v, 'cardNo')],
      ['Kart türü', cardKindName(text(v, 'cardKind'))],
      ['TC kimlik no', text(v, 'tcKimlikNo')],
      ['HES kodu', text(v, 'hesCode')],
    ] as [string, string][]
  ).filter(([, value]) => value !== '');

// NO_CURRENT_MATCH says "this card and this TC together": neither field alone is wrong.
const formLevel = (code: string, field: string | null): string | null =>
  code === 'NO_CURRENT_MATCH' || code === 'MATCH_OVERLAP' ? null : field;

export const CITIZEN_FORMS: readonly CitizenForm[] = [
  {
    path: '/',
    apiUrl: '/v1/matches',
    title: 'Kartınızı HES kodunuzla eşleştirin',
    intro: 'Tek adımda: kart numaranızı, TC kimlik numaranızı, HES kodunuzu ve kart türünü girin.',
    submitLabel: 'Eşleştir',
    fields: [
      { name: 'cardNo', kind: 'card', label: 'Kart numarası', hint: CARD_HINT },
      { name: 'tcKimlikNo', kind: 'tc', label: 'TC kimlik numarası', hint: TC_HINT },
      { name: 'hesCode', kind: 'hes', label: 'HES kodu', hint: HES_HINT },
      { name: 'cardKind', kind: 'kind', label: 'Kart türü' },
    ],
    fieldOf: formLevel,
    success: (v) => ({
      heading:
        text(v, 'outcome') === 'UNCHANGED'
          ? 'Bu kart zaten bu bilgilerle eşleşmiş'
          : 'Kartınız HES kodunuzla eşleştirildi',
      lines: [
        ...(Array.isArray(v.endedMatchIds) && v.endedMatchIds.length > 0
          ? ['Önceki kartınızın eşleşmesi sona erdi; bundan sonra bu kartı kullanın.']
          : []),
        'Kartınızı hemen kullanabilirsiniz.',
      ],
      rows: maskedRows(v),
    }),
  },
  {
    path: '/hes-degistir',
    apiUrl: '/v1/matches/hes-code',
    title: 'HES kodumu değiştir',
    intro: 'Kartınıza bağlı HES kodunu yenisiyle değiştirin. Kart numaranız ve TC kimlik numaranız gerekir.',
    submitLabel: 'HES kodunu değiştir',
    fields: [
      { name: 'cardNo', kind: 'card', label: 'Kart numarası', hint: CARD_HINT },
      { name: 'tcKimlikNo', kind: 'tc', label: 'TC kimlik numarası', hint: TC_HINT },
      { name: 'hesCode', kind: 'hes', label: 'Yeni HES kodu', hint: HES_HINT },
    ],
    fieldOf: formLevel,
    success: (v) => ({
      heading:
        text(v, 'outcome') === 'UNCHANGED'
          ? 'Kartınız zaten bu HES koduyla eşleşmiş; değişiklik yapılmadı'
          : 'HES kodunuz değiştirildi',
      lines: [],
      rows: maskedRows(v),
    }),
  },
  {
    path: '/kayip-kart',
    apiUrl: '/v1/matches/card-replacement',
    title: 'Kartımı kaybettim',
    intro:
      'Kayıp kartınızın eşleşmesi sona erer ve aynı HES koduyla yeni kartınıza geçer. Kayıp kartın numarası, TC kimlik numaranız ve yeni kartın numarası gerekir.',
    submitLabel: 'Yeni kartıma geçir',
    fields: [
      { name: 'cardNo', kind: 'card', label: 'Kayıp kartın numarası', hint: CARD_HINT },
      { name: 'tcKimlikNo', kind: 'tc', label: 'TC kimlik numarası', hint: TC_HINT },
      { name: 'newCardNo', kind: 'card', label: 'Yeni kartın numarası', hint: CARD_HINT },
      { name: 'newCardKind', kind: 'kind', label: 'Yeni kartın türü' },
    ],
    // The lost card is the person's own: a taken card or a kind conflict is about the new one.
    fieldOf: (code, field) => {
      if (code === 'CARD_TAKEN') return 'newCardNo';
      if (code === 'CARD_KIND_CONFLICT') return 'newCardKind';
      return formLevel(code, field);
    },
    success: (v) => ({
      heading: 'Yeni kartınız eşleştirildi',
      lines: ['Kayıp kartınızın eşleşmesi sona erdi; o kart artık sizin adınıza kullanılamaz.'],
      rows: maskedRows(v),
    }),
  },
  {
    path: '/eslesmem',
    apiUrl: '/v1/matches/current',
    title: 'Eşleşmemi göster',
    intro: 'Kartınızın şu anki eşleşmesini görün. Bilgileriniz maskeli gösterilir.',
    submitLabel: 'Göster',
    fields: [
      { name: 'cardNo', kind: 'card', label: 'Kart numarası', hint: CARD_HINT },
      { name: 'tcKimlikNo', kind: 'tc', label: 'TC kimlik numarası', hint: TC_HINT },
    ],
    fieldOf: formLevel,
    success: (v) => ({
      heading: 'Kartınızın geçerli eşleşmesi',
      lines: [],
      rows: [
        ...maskedRows(v),
        ['Başlangıç', dateTimeTr(text(v, 'validFrom'))],
        ['Bitiş', text(v, 'validTo') === '' ? 'Süresiz' : dateTimeTr(text(v, 'validTo'))],
        ['Eşleştirildiği yer', channelName(text(v, 'channel'))],
      ],
    }),
  },
];

// Kiosks and activation points are shared screens: a finished session goes back to an empty form.
const KIOSK_RETURN_HOME_SECONDS = 60;

export function registerCitizenPages(scope: FastifyInstance, ctx: PageContext): void {
  for (const form of CITIZEN_FORMS) {
    scope.get(form.path, async (request, reply) => {
      const key = await keyOrNotice(request, reply, ctx);
      if (key === null) return reply;
      return sendPage(reply, 200, { title: form.title, main: formPage(form, {}, []) });
    });
    scope.post(form.path, async (request, reply) => {
      const key = await keyOrNotice(request, reply, ctx);
      if (key === null) return reply;
      const values = formFields(request.body);
      const outcome = await callRoute(ctx, key, form.apiUrl, bodyOf(form, values));
      if (outcome.ok) {
        const shared = key.channel === 'KIOSK' || key.channel === 'ACTIVATION_POINT';
        return sendPage(reply, 200, {
          title: form.title,
          main: successPage(form, outcome.value),
          ...(shared ? { returnHomeAfterSeconds: KIOSK_RETURN_HOME_SECONDS } : {}),
        });
      }
      return sendPage(reply, outcome.error.status, {
        title: `Hata: ${form.title}`,
        main: formPage(form, values, placeErrors(form, outcome, values)),
      });
    });
  }
}

/** The request body for the route: the form's own fields only, an unchosen radio left out. */
function bodyOf(form: CitizenForm, values: Record<string, string>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const f of form.fields) {
    const value = values[f.name];
    if (f.kind === 'kind' && (value === undefined || value === '')) continue;
    body[f.name] = value ?? '';
  }
  return body;
}

function placeErrors(form: CitizenForm, outcome: RouteOutcome, values: Record<string, string>): FieldError[] {
  if (outcome.ok) return [];
  const { error } = outcome;
  const own = new Set(form.fields.map((f) => f.name));
  const first = (form.fieldOf ?? ((_c, f) => f))(error.code, error.field);
  const fields = [first, ...(error.code === 'INVALID_INPUT' ? outcome.invalidFields : [])];
  const placed = new Set<string>();
  const errors: FieldError[] = [];
  for (const field of fields) {
    if (field === null || !own.has(field)) continue;
    if (placed.has(field)) continue;
    placed.add(field);
    const empty = (values[field] ?? '').trim() === '';
    const message =
      error.code === 'INVALID_INPUT' && empty ? emptyFieldMessage(field) : turkishMessage(error, field);
    errors.push({ field, id: field, message });
  }
  if (errors.length === 0) errors.push({ field: null, message: turkishMessage(error, null) });
  // In the form's order, so the summary reads top to bottom like the page.
  const order = form.fields.map((f) => f.name);
  return errors.sort((a, b) => order.indexOf(a.field ?? '') - order.indexOf(b.field ?? ''));
}

function formPage(form: CitizenForm, values: Record<string, string>, errors: readonly FieldError[]): Html {
  const errorOf = (name: string) => errors.find((e) => e.field === name)?.message;
  const firstInvalid = errors.find((e) => e.field !== null)?.field;
  const fields = form.fields.map((f) =>
    fieldInput(f, values, {
      id: f.name,
      name: f.name,
      error: errorOf(f.name),
      autofocus: firstInvalid === f.name,
    }),
  );
  return html`${form.path === '/' ? '' : html`<p><a href="/">← Ana sayfa</a></p>`}
<h1>${form.title}</h1>
${errorSummary(errors)}
<p>${form.intro}</p>
<form method="post" action="${form.path}" novalidate>
${fields}
<button type="submit">${form.submitLabel}</button>
</form>
${form.path === '/' ? otherActions() : ''}`;
}

type Common = { id: string; name: string; error: string | undefined; autofocus: boolean };

function fieldInput(f: FieldSpec, values: Record<string, string>, common: Common): Html {
  switch (f.kind) {
    case 'kind':
      return radioInput({
        ...common,
        legend: f.label,
        value: values[f.name],
        options: [
          { value: 'PERSONAL', label: 'Kişisel', hint: '(fotoğraflı kart)' },
          { value: 'ANONYMOUS', label: 'Anonim', hint: '(hamiline kart)' },
        ],
      });
    case 'card':
      return textInput({
        ...common,
        label: f.label,
        hint: f.hint,
        value: values[f.name]?.trim(),
        maxLength: 20,
        required: true,
        upperCase: true,
      });
    case 'tc':
      // Never refilled: a TC kimlik no typed on a shared screen must not stay on it.
      return textInput({
        ...common,
        label: f.label,
        hint: f.hint,
        inputMode: 'numeric',
        maxLength: 11,
        required: true,
        tcCheck: true,
      });
    case 'hes':
      // Never refilled, like the TC kimlik no.
      return textInput({
        ...common,
        label: f.label,
        hint: f.hint,
        maxLength: 14,
        required: true,
        upperCase: true,
      });
  }
}

function otherActions(): Html {
  return html`<nav class="more" aria-labelledby="more-title">
<h2 id="more-title">Diğer işlemler</h2>
<ul>
<li><a href="/hes-degistir">HES kodumu değiştir</a></li>
<li><a href="/kayip-kart">Kartımı kaybettim</a></li>
<li><a href="/eslesmem">Eşleşmemi göster</a></li>
</ul>
</nav>`;
}

function successPage(form: CitizenForm, value: Record<string, unknown>): Html {
  const view = form.success(value);
  return html`<div class="success" role="status">
<h1>${view.heading}</h1>
${view.lines.map((line) => html`<p>${line}</p>`)}
${facts(view.rows)}
</div>
<p><a href="/">Ana sayfaya dön</a></p>`;
}

/**
 * The page's key, or a notice page sent instead (null). A device whose key was revoked is told
 * so (401); a device with no key, where the deployment gave no usable web page key, is "not set
 * up" (503): the operator provisions it at /device.
 */
async function keyOrNotice(
  request: FastifyRequest,
  reply: FastifyReply,
  ctx: PageContext,
): Promise<ApiClient | null> {
  const key: PageKey = await citizenPageKey(request, ctx.deps, ctx.options.webPageKey);
  if (key.ok) return key.client;
  if (key.reason === 'WEB_PAGE_KEY_REJECTED' || key.reason === 'WEB_PAGE_KEY_NOT_WEB') {
    // A deployment mistake, not the visitor's: said once per request in the log, by reason only.
    ctx.options.log(
      { route: request.routeOptions.url, reason: key.reason },
      key.reason === 'WEB_PAGE_KEY_NOT_WEB'
        ? 'REGISTRY_API_WEB_PAGE_KEY is not a WEB key; the public page refuses to use it'
        : 'REGISTRY_API_WEB_PAGE_KEY is unknown or revoked',
    );
  }
  const status = key.reason === 'DEVICE_KEY_REJECTED' ? 401 : 503;
  const main =
    key.reason === 'DEVICE_KEY_REJECTED'
      ? html`<h1>Bu cihazın anahtarı geçersiz</h1>
<div class="notice" role="alert"><p>Bu cihaza tanımlı anahtar iptal edilmiş ya da geçersiz. Eşleştirme yapılamıyor.</p>
<p>Görevli, cihazı <a href="/device">Cihaz ayarları</a> sayfasında yeni bir anahtarla ayarlamalıdır.</p></div>`
      : key.reason === 'NOT_SET_UP'
        ? html`<h1>Bu cihaz henüz ayarlanmamış</h1>
<div class="notice" role="alert"><p>Bu cihaz için bir anahtar tanımlanmadığından eşleştirme yapılamıyor.</p>
<p>Görevli, cihazı <a href="/device">Cihaz ayarları</a> sayfasında ayarlamalıdır.</p></div>`
        : html`<h1>Hizmet şu anda kullanılamıyor</h1>
<div class="notice" role="alert"><p>Eşleştirme hizmeti şu anda kullanılamıyor. Lütfen daha sonra yeniden deneyin.</p>
<p>Görevliler için: <a href="/device">Cihaz ayarları</a></p></div>`;
  await sendPage(reply, status, { title: 'Cihaz ayarlanmamış', main });
  return null;
}
