import { flag, type Html, html } from '@boarding/ops-http/html';
import type { ApiClient } from '@boarding/registry/verbs/authenticate-api-key';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiError } from '../api-error';
import { deviceKeyOf } from './device-key';
import { errorSummary, type FieldError, facts, hidden, radioInput, sendPage, textInput } from './layout';
import { callRoute, formFields, type PageContext, type RouteOutcome, text } from './page-context';
import {
  cardKindName,
  channelName,
  dateTimeTr,
  emptyFieldMessage,
  hesStatusName,
  turkishMessage,
} from './turkish-messages';

/**
 * `/staff`: look up a card (its current match and its history, masked), correct a match with a
 * reason (optionally a new TC, HES code, card or kind), end a match with a reason. Only a device
 * provisioned with a STAFF key gets past the door, and every action is still the /v1 staff route
 * run as that key (runRoute checks the channel again). Everything posts to /staff with an
 * `action`; the page then shows the card again as it now is.
 */

type Notice = { heading: string; lines: readonly string[] };

type StaffView = {
  status: number;
  /** The card shown below the forms, as typed (the API normalises it). */
  cardNo?: string;
  notice?: Notice;
  /** Which form the errors belong to: `lookup`, `unmatch` or `fix-<matchId>`. */
  errorForm?: string;
  errors: FieldError[];
  /** What is filled in again in the failed form: never a TC kimlik no or a HES code. */
  refill: Record<string, string>;
};

export function registerStaffPages(scope: FastifyInstance, ctx: PageContext): void {
  scope.get('/staff', async (request, reply) => {
    const client = await staffOrRefusal(request, reply, ctx);
    if (client === null) return reply;
    const page = await staffPage(ctx, client, emptyView());
    return sendPage(reply, page.status, { title: 'Personel', main: page.html });
  });
  scope.post('/staff', async (request, reply) => {
    const client = await staffOrRefusal(request, reply, ctx);
    if (client === null) return reply;
    const values = formFields(request.body);
    const page = await staffPage(ctx, client, await act(ctx, client, values));
    return sendPage(reply, page.status, { title: 'Personel', main: page.html });
  });
}

const emptyView = (): StaffView => ({ status: 200, errors: [], refill: {} });

async function act(ctx: PageContext, client: ApiClient, values: Record<string, string>): Promise<StaffView> {
  const cardNo = (values.cardNo ?? '').trim();
  switch (values.action) {
    case 'correct':
      return correct(ctx, client, values, cardNo);
    case 'unmatch':
      return unmatch(ctx, client, values, cardNo);
    default:
      return { ...emptyView(), cardNo };
  }
}

// The correction form's fields and the route's: the new card and kind are named apart from the
// card being viewed.
const REPLACEMENT_FIELDS: readonly (readonly [form: string, api: string])[] = [
  ['tcKimlikNo', 'tcKimlikNo'],
  ['hesCode', 'hesCode'],
  ['newCardNo', 'cardNo'],
  ['newCardKind', 'cardKind'],
];

async function correct(
  ctx: PageContext,
  client: ApiClient,
  values: Record<string, string>,
  cardNo: string,
): Promise<StaffView> {
  const matchIdText = values.matchId ?? '';
  const replacement: Record<string, string> = {};
  for (const [form, api] of REPLACEMENT_FIELDS) {
    const value = (values[form] ?? '').trim();
    if (value !== '') replacement[api] = value;
  }
  const body = {
    // A number, as the route's schema wants; anything else goes as typed, for the schema to refuse.
    matchId: /^[0-9]{1,15}$/.test(matchIdText) ? Number(matchIdText) : matchIdText,
    reason: values.reason ?? '',
    // No field changed: the match is retracted without a replacement (it should never have existed).
    ...(Object.keys(replacement).length > 0 ? { replacement } : {}),
  };
  const outcome = await callRoute(ctx, client, '/v1/staff/corrections', body);
  const formKey = `fix-${matchIdText}`;
  if (outcome.ok) {
    const created = text(outcome.value, 'matchId');
    return {
      ...emptyView(),
      cardNo,
      notice: {
        heading: 'Düzeltme kaydedildi',
        lines: [
          `Eşleşme #${text(outcome.value, 'retractedMatchId')} geri alındı; gerekçesiyle birlikte geçmişte kalır.`,
          created === ''
            ? 'Yerine yeni bir eşleşme oluşturulmadı.'
            : `Yerine düzeltilmiş eşleşme #${created} oluşturuldu.`,
        ],
      },
    };
  }
  const fieldOf = (field: string | null): string | null => {
    if (outcome.error.code === 'CARD_TAKEN') return 'newCardNo';
    if (outcome.error.code === 'CARD_KIND_CONFLICT') return 'newCardKind';
    if (field === 'reason') return 'reason';
    const api = field?.startsWith('replacement.') ? field.slice('replacement.'.length) : undefined;
    return REPLACEMENT_FIELDS.find(([, a]) => a === api)?.[0] ?? null;
  };
  return failed(outcome, formKey, values, fieldOf, cardNo, ['reason', 'newCardNo', 'newCardKind']);
}

async function unmatch(
  ctx: PageContext,
  client: ApiClient,
  values: Record<string, string>,
  cardNo: string,
): Promise<StaffView> {
  const outcome = await callRoute(ctx, client, '/v1/staff/unmatch', { cardNo, reason: values.reason ?? '' });
  if (outcome.ok) {
    return {
      ...emptyView(),
      cardNo,
      notice: {
        heading: 'Eşleşme sonlandırıldı',
        lines: [`Eşleşme #${text(outcome.value, 'endedMatchId')} şu andan itibaren sona erdi.`],
      },
    };
  }
  return failed(outcome, 'unmatch', values, (f) => (f === 'reason' ? 'reason' : null), cardNo, ['reason']);
}

function failed(
  outcome: Extract<RouteOutcome, { ok: false }>,
  formKey: string,
  values: Record<string, string>,
  fieldOf: (field: string | null) => string | null,
  cardNo: string,
  refillFields: readonly string[],
): StaffView {
  const errors = fieldErrors(outcome.error, outcome.invalidFields, formKey, values, fieldOf);
  const refill: Record<string, string> = {};
  for (const f of refillFields) refill[f] = values[f] ?? '';
  return { status: outcome.error.status, cardNo, errorForm: formKey, errors, refill };
}

function fieldErrors(
  error: ApiError,
  invalidFields: readonly string[],
  formKey: string,
  values: Record<string, string>,
  fieldOf: (field: string | null) => string | null,
): FieldError[] {
  const fields = [fieldOf(error.field), ...invalidFields.map(fieldOf)];
  const errors: FieldError[] = [];
  for (const field of new Set(fields)) {
    if (field === null) continue;
    const empty = (values[field] ?? '').trim() === '';
    errors.push({
      field,
      id: `${formKey}-${field}`,
      message:
        error.code === 'INVALID_INPUT' && empty ? emptyFieldMessage(field) : turkishMessage(error, field),
    });
  }
  if (errors.length === 0) errors.push({ field: null, message: turkishMessage(error, null) });
  return errors;
}

async function staffPage(
  ctx: PageContext,
  client: ApiClient,
  view: StaffView,
): Promise<{ html: Html; status: number }> {
  let errors = view.errors;
  let errorForm = view.errorForm;
  let status = view.status;
  let card: Html = html``;
  if (view.cardNo !== undefined) {
    const shown = await cardView(ctx, client, view);
    card = shown.html;
    if (shown.errors.length > 0 && errors.length === 0) {
      errors = shown.errors;
      errorForm = 'lookup';
      status = shown.status;
    }
  }
  const errorsOf = (form: string) => (form === errorForm ? errors : []);
  const lookupErrors = errorsOf('lookup');
  return {
    status,
    html: html`<h1>Personel: kart işlemleri</h1>
<p>Bu cihaz bir personel anahtarıyla çalışıyor${client.locationId === null ? '' : ` (konum: ${client.locationId})`}. Tüm işlemler anahtarınızla kayda geçer.</p>
${errorSummary(errors)}
${view.notice === undefined ? '' : html`<div class="success" role="status"><h2>${view.notice.heading}</h2>${view.notice.lines.map((l) => html`<p>${l}</p>`)}</div>`}
<form method="post" action="/staff" novalidate>
${hidden('action', 'lookup')}
${textInput({
  id: 'lookup-cardNo',
  name: 'cardNo',
  label: 'Kart numarası',
  hint: '8–20 karakter (0–9 ve A–F)',
  value: view.cardNo,
  error: lookupErrors.find((e) => e.field === 'cardNo')?.message,
  autofocus: lookupErrors.length > 0,
  maxLength: 20,
  required: true,
  upperCase: true,
})}
<button type="submit">Kartı göster</button>
</form>
${card}`,
  };
}

/**
 * The card as it is now: its current match, its history and a form per live match. Reads only:
 * a lookup's own failure (a malformed card number) is returned for the lookup form.
 */
async function cardView(
  ctx: PageContext,
  client: ApiClient,
  view: StaffView,
): Promise<{ html: Html; errors: FieldError[]; status: number }> {
  const cardNo = view.cardNo ?? '';
  const current = await callRoute(ctx, client, '/v1/staff/card-lookup', { cardNo });
  if (!current.ok && current.error.code !== 'NO_CURRENT_MATCH') {
    const errors = fieldErrors(current.error, current.invalidFields, 'lookup', { cardNo }, (f) =>
      f === 'cardNo' ? 'cardNo' : null,
    );
    return { html: html``, errors, status: current.error.status };
  }
  const history = await callRoute(ctx, client, '/v1/staff/card-history', { cardNo });
  const errorsOf = (form: string) => (form === view.errorForm ? view.errors : []);
  const shownCardNo = current.ok ? text(current.value, 'cardNo') : cardNo.toUpperCase();
  const rows = history.ok && Array.isArray(history.value.matches) ? history.value.matches : [];
  const matches = rows.filter((m): m is Record<string, unknown> => typeof m === 'object' && m !== null);
  const live = matches.filter((m) => text(m, 'retractedAt') === '');
  return {
    status: 200,
    errors: [],
    html: html`<section aria-labelledby="card-title">
<h2 id="card-title">Kart ${shownCardNo}</h2>
${
  current.ok
    ? html`<h3>Geçerli eşleşme</h3>${facts([
        ['Kart türü', cardKindName(text(current.value, 'cardKind'))],
        ['TC kimlik no', text(current.value, 'tcKimlikNo')],
        ['HES kodu', text(current.value, 'hesCode')],
        ['Başlangıç', dateTimeTr(text(current.value, 'validFrom'))],
        ['Kanal', channelName(text(current.value, 'channel'))],
      ])}
${unmatchForm(shownCardNo, errorsOf('unmatch'), view)}`
    : html`<p class="notice">Bu kartın şu an geçerli bir eşleşmesi yok.</p>`
}
<h3>Eşleşme geçmişi</h3>
${
  history.ok
    ? historyTable(matches)
    : html`<p class="notice" role="alert">${turkishMessage(history.error, null)}</p>`
}
${
  live.length === 0
    ? ''
    : html`<h3>Düzeltme</h3>
<p>Yanlış bir eşleşmeyi gerekçesiyle düzeltin. Boş bıraktığınız alanlar aynı kalır; hiçbir alanı doldurmazsanız eşleşme geri alınır ve yerine yenisi oluşturulmaz.</p>
${live.map((m) => correctionForm(shownCardNo, m, view))}`
}
</section>`,
  };
}

function historyTable(matches: readonly Record<string, unknown>[]): Html {
  if (matches.length === 0) return html`<p>Bu kartın hiç eşleşmesi olmamış.</p>`;
  return html`<div class="table-scroll" role="region" aria-labelledby="history-caption" tabindex="0">
<table>
<caption id="history-caption" class="visually-hidden">Kartın eşleşme geçmişi, maskeli</caption>
<thead><tr><th scope="col">No</th><th scope="col">TC kimlik no</th><th scope="col">HES kodu</th><th scope="col">HES durumu</th><th scope="col">Başlangıç</th><th scope="col">Bitiş</th><th scope="col">Kanal</th><th scope="col">Düzeltme</th></tr></thead>
<tbody>
${matches.map(
  (m) => html`<tr>
<td>#${text(m, 'matchId')}</td>
<td>${text(m, 'tcKimlikNo')}</td>
<td>${text(m, 'hesCode')}</td>
<td>${hesStatusName(text(m, 'hesStatus') || null)}</td>
<td>${dateTimeTr(text(m, 'validFrom'))}</td>
<td>${text(m, 'validTo') === '' ? 'Süresiz' : dateTimeTr(text(m, 'validTo'))}</td>
<td>${channelName(text(m, 'channel'))}</td>
<td>${text(m, 'retractedAt') === '' ? '—' : html`Geri alındı (${dateTimeTr(text(m, 'retractedAt'))}): ${text(m, 'retractReason')}`}</td>
</tr>`,
)}
</tbody>
</table>
</div>`;
}

function reasonInput(id: string, value: string | undefined, error: string | undefined): Html {
  return textInput({
    id,
    name: 'reason',
    label: 'Gerekçe',
    hint: 'En az 5 karakter: neden düzeltildiği, kayda geçer',
    value,
    error,
    autofocus: error !== undefined,
    maxLength: 500,
    required: true,
  });
}

function correctionForm(cardNo: string, match: Record<string, unknown>, view: StaffView): Html {
  const matchId = text(match, 'matchId');
  const key = `fix-${matchId}`;
  const mine = view.errorForm === key;
  const errorOf = (field: string) => (mine ? view.errors.find((e) => e.field === field)?.message : undefined);
  const refill = (field: string) => (mine ? view.refill[field] : undefined);
  const firstInvalid = mine ? view.errors.find((e) => e.field !== null)?.field : undefined;
  return html`<details${flag('open', mine)}>
<summary>Eşleşme #${matchId} (${text(match, 'tcKimlikNo')}, ${dateTimeTr(text(match, 'validFrom'))}) düzelt</summary>
<form method="post" action="/staff" novalidate>
${hidden('action', 'correct')}
${hidden('cardNo', cardNo)}
${hidden('matchId', matchId)}
${reasonInput(`${key}-reason`, refill('reason'), errorOf('reason'))}
${textInput({ id: `${key}-tcKimlikNo`, name: 'tcKimlikNo', label: 'Doğru TC kimlik numarası', inputMode: 'numeric', maxLength: 11, required: false, tcCheck: true, error: errorOf('tcKimlikNo'), autofocus: firstInvalid === 'tcKimlikNo' })}
${textInput({ id: `${key}-hesCode`, name: 'hesCode', label: 'Doğru HES kodu', maxLength: 14, required: false, upperCase: true, error: errorOf('hesCode'), autofocus: firstInvalid === 'hesCode' })}
${textInput({ id: `${key}-newCardNo`, name: 'newCardNo', label: 'Doğru kart numarası', maxLength: 20, required: false, upperCase: true, value: refill('newCardNo'), error: errorOf('newCardNo'), autofocus: firstInvalid === 'newCardNo' })}
${radioInput({
  id: `${key}-newCardKind`,
  name: 'newCardKind',
  legend: 'Kart türü',
  value: refill('newCardKind') ?? '',
  error: errorOf('newCardKind'),
  autofocus: firstInvalid === 'newCardKind',
  options: [
    { value: '', label: 'Değişmesin' },
    { value: 'PERSONAL', label: 'Kişisel' },
    { value: 'ANONYMOUS', label: 'Anonim' },
  ],
})}
<button type="submit">Düzeltmeyi kaydet</button>
</form>
</details>`;
}

function unmatchForm(cardNo: string, errors: readonly FieldError[], view: StaffView): Html {
  return html`<details${flag('open', errors.length > 0)}>
<summary>Eşleşmeyi sonlandır</summary>
<form method="post" action="/staff" novalidate>
${hidden('action', 'unmatch')}
${hidden('cardNo', cardNo)}
${reasonInput('unmatch-reason', errors.length > 0 ? view.refill.reason : undefined, errors.find((e) => e.field === 'reason')?.message)}
<button type="submit" class="danger">Eşleşmeyi şimdi sonlandır</button>
</form>
</details>`;
}

/**
 * The door: a device provisioned with a STAFF key, else a page that says which key is needed
 * and shows nothing of any card (401 without a usable key, 403 with another channel's key).
 */
async function staffOrRefusal(
  request: FastifyRequest,
  reply: FastifyReply,
  ctx: PageContext,
): Promise<ApiClient | null> {
  const device = await deviceKeyOf(request, ctx.deps);
  if (device.kind === 'device' && device.client.channel === 'STAFF') return device.client;
  const wrongChannel = device.kind === 'device';
  await sendPage(reply, wrongChannel ? 403 : 401, {
    title: 'Personel anahtarı gerekli',
    main: html`<h1>Personel anahtarı gerekli</h1>
<div class="notice" role="alert">
<p>${
      wrongChannel
        ? 'Bu cihazın anahtarı bir personel anahtarı değil; bu sayfa açılamaz.'
        : 'Bu sayfa yalnızca personel anahtarıyla ayarlanmış cihazlarda açılır.'
    }</p>
<p>Cihazı <a href="/device">Cihaz ayarları</a> sayfasında bir personel anahtarıyla ayarlayın.</p>
</div>`,
  });
  return null;
}
