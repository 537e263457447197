import { type Html, html } from '@boarding/ops-http/html';
import { authenticateApiKey } from '@boarding/registry/verbs/authenticate-api-key';
import type { FastifyInstance } from 'fastify';
import { type DeviceKey, deviceCookie, deviceKeyOf, forgetDeviceCookie } from './device-key';
import { errorSummary, type FieldError, facts, hidden, sendPage, textInput } from './layout';
import { formFields, type PageContext } from './page-context';
import { channelName } from './turkish-messages';

/**
 * `/device`: an operator provisions a kiosk, an activation point or a staff browser once by typing
 * its API key ("Cihaz anahtarı"); the key is checked like any key and kept in an HttpOnly cookie.
 * The key itself is never shown again, only its channel and location.
 */
export function registerDevicePage(scope: FastifyInstance, ctx: PageContext): void {
  scope.get('/device', async (request, reply) => {
    const device = await deviceKeyOf(request, ctx.deps);
    return sendPage(reply, 200, { title: 'Cihaz ayarları', main: devicePage(device, undefined, []) });
  });
  scope.post('/device', async (request, reply) => {
    const values = formFields(request.body);
    const secure = ctx.options.cookieSecure;
    if (values.action === 'forget') {
      reply.header('set-cookie', forgetDeviceCookie(secure));
      return sendPage(reply, 200, {
        title: 'Cihaz ayarları',
        main: devicePage({ kind: 'none' }, 'Bu cihazın anahtarı silindi.', []),
      });
    }
    const key = (values.key ?? '').trim();
    const client = key === '' ? null : await authenticateApiKey({ ctx: { db: ctx.deps.db }, key });
    if (client === null) {
      const message = key === '' ? 'Cihaz anahtarını girin' : 'Cihaz anahtarı geçersiz ya da iptal edilmiş';
      // The device keeps whatever key it had: a typo must not unprovision a working kiosk.
      const device = await deviceKeyOf(request, ctx.deps);
      return sendPage(reply, key === '' ? 400 : 401, {
        title: 'Hata: Cihaz ayarları',
        main: devicePage(device, undefined, [{ field: 'key', id: 'key', message }]),
      });
    }
    reply.header('set-cookie', deviceCookie(key, secure));
    return sendPage(reply, 200, {
      title: 'Cihaz ayarları',
      main: devicePage({ kind: 'device', client }, 'Bu cihaz ayarlandı.', []),
    });
  });
}

function devicePage(device: DeviceKey, done: string | undefined, errors: readonly FieldError[]): Html {
  const status =
    device.kind === 'device'
      ? html`<div class="notice"><p>Bu cihaz şu anahtarla çalışıyor:</p>${facts([
          ['Kanal', channelName(device.client.channel)],
          ['Konum', device.client.locationId ?? '—'],
          ['Anahtar kimliği', device.client.keyId],
        ])}
<p>${device.client.channel === 'STAFF' ? html`<a href="/staff">Personel sayfasına git</a>` : html`<a href="/">Eşleştirme sayfasına git</a>`}</p></div>`
      : device.kind === 'rejected'
        ? html`<div class="notice" role="alert"><p>Bu cihazda kayıtlı anahtar geçersiz ya da iptal edilmiş. Yeni bir anahtar girin.</p></div>`
        : html`<div class="notice"><p>Bu cihaza henüz bir anahtar tanımlanmamış.</p></div>`;
  return html`<h1>Cihaz ayarları</h1>
${errorSummary(errors)}
${done === undefined ? '' : html`<div class="success" role="status"><h2>${done}</h2></div>`}
${status}
<p>Kiosk, aktivasyon noktası ya da personel bilgisayarı bir kez, kendi API anahtarıyla ayarlanır. Anahtar bu tarayıcıda saklanır ve sayfada bir daha gösterilmez.</p>
<form method="post" action="/device" novalidate>
${hidden('action', 'save')}
${textInput({
  id: 'key',
  name: 'key',
  label: 'Cihaz anahtarı',
  hint: 'bk_ ile başlayan anahtar (boarding apikey create ile oluşturulur)',
  type: 'password',
  maxLength: 128,
  required: true,
  error: errors.find((e) => e.field === 'key')?.message,
  autofocus: errors.length > 0,
})}
<button type="submit">Anahtarı kaydet</button>
</form>
${
  device.kind === 'none'
    ? ''
    : html`<form method="post" action="/device">
${hidden('action', 'forget')}
<h2>Anahtarı unut</h2>
<p>Bu cihaz artık eşleştirme ya da personel işlemi yapmasın.</p>
<button type="submit" class="secondary">Bu cihazın anahtarını sil</button>
</form>`
}`;
}
