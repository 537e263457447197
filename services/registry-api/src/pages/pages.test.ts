import { Html, html } from '@boarding/ops-http/html';
import { deviceCookie, forgetDeviceCookie, readCookie } from './device-key';
import { errorSummary, radioInput, renderDocument, textInput } from './layout';
import { foreignOrigin, parseForm } from './pages';
import { dateTimeTr, emptyFieldMessage, turkishMessage } from './turkish-messages';

describe('html', () => {
  it('escapes every interpolated string, in text and in attributes', () => {
    const hostile = `"><script>alert('x')</script>&\``;
    expect(html`<p title="${hostile}">${hostile}</p>`.text).toBe(
      '<p title="&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&#96;">&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&#96;</p>',
    );
  });

  it('nests Html unescaped, renders arrays, and nothing for null, undefined and false', () => {
    const items = ['a<b', 'c'].map((s) => html`<li>${s}</li>`);
    expect(html`<ul>${items}</ul>${null}${undefined}${false}${0}`.text).toBe(
      '<ul><li>a&lt;b</li><li>c</li></ul>0',
    );
    expect(html`${new Html('<b>')}`.text).toBe('<b>');
  });
});

describe('layout', () => {
  it('ties a field to its label, hint and error, and marks it invalid', () => {
    const out = textInput({
      id: 'tcKimlikNo',
      name: 'tcKimlikNo',
      label: 'TC kimlik numarası',
      hint: '11 haneli numara',
      error: 'TC kimlik numarası geçersiz',
      maxLength: 11,
      required: true,
      autofocus: true,
    }).text;
    expect(out).toContain('<label for="tcKimlikNo">TC kimlik numarası</label>');
    expect(out).toContain('aria-describedby="tcKimlikNo-hint tcKimlikNo-error" aria-invalid="true"');
    expect(out).toContain('<p class="error-message" id="tcKimlikNo-error">');
    expect(out).toMatch(/ autofocus>/);
  });

  it('a radio group is a fieldset with a legend; the first option carries the group id for the summary link', () => {
    const out = radioInput({
      id: 'cardKind',
      name: 'cardKind',
      legend: 'Kart türü',
      value: 'ANONYMOUS',
      options: [
        { value: 'PERSONAL', label: 'Kişisel' },
        { value: 'ANONYMOUS', label: 'Anonim' },
      ],
    }).text;
    expect(out).toContain('<legend>Kart türü</legend>');
    expect(out).toContain('id="cardKind" name="cardKind" value="PERSONAL">');
    expect(out).toContain('id="cardKind-ANONYMOUS" name="cardKind" value="ANONYMOUS" checked>');
  });

  it('the summary is an alert linking each field error to its field', () => {
    const out = errorSummary([
      { field: 'cardNo', id: 'cardNo', message: 'Kart numarası girin' },
      { field: null, message: 'HES servisine şu anda ulaşılamıyor.' },
    ]).text;
    expect(out).toContain('role="alert"');
    expect(out).toContain('<li><a href="#cardNo">Kart numarası girin</a></li>');
    expect(out).toContain('<li>HES servisine şu anda ulaşılamıyor.</li>');
    expect(errorSummary([]).text).toBe('');
  });

  it('a document is Turkish, and its only style and script carry the nonce', () => {
    const out = renderDocument({ title: 'Başlık', main: html`<h1>x</h1>` }, 'n0nce').text;
    expect(out).toContain('<html lang="tr">');
    expect(out).toContain('<style nonce="n0nce">');
    expect(out).toContain('<script nonce="n0nce">');
    expect(out).not.toMatch(/<link|src="http/);
  });
});

describe('device cookie', () => {
  const key = `bk_0123456789ab_${'A'.repeat(43)}`;

  it('is HttpOnly, SameSite=Strict, for the whole site, Secure when asked', () => {
    expect(deviceCookie(key, false)).toBe(
      `boarding_device=${key}; Path=/; Max-Age=34560000; HttpOnly; SameSite=Strict`,
    );
    expect(deviceCookie(key, true)).toMatch(/; Secure$/);
    expect(forgetDeviceCookie(false)).toBe('boarding_device=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict');
    expect(() => deviceCookie('a;b', false)).toThrow(RangeError);
  });

  it('is read from a Cookie header among others', () => {
    expect(readCookie(`a=1; boarding_device=${key}; b=2`, 'boarding_device')).toBe(key);
    expect(readCookie('boarding_device="quoted"', 'boarding_device')).toBe('quoted');
    expect(readCookie('x_boarding_device=1', 'boarding_device')).toBeUndefined();
    expect(readCookie(undefined, 'boarding_device')).toBeUndefined();
  });
});

describe('form posts', () => {
  it('parse as URL-encoded text, the first of a repeated name winning', () => {
    expect(parseForm('cardNo=04a1&tcKimlikNo=1+2&x=%C5%9F&cardNo=other')).toEqual({
      cardNo: '04a1',
      tcKimlikNo: '1 2',
      x: 'ş',
    });
  });

  it.each([
    [undefined, 'localhost:9103', false],
    ['http://localhost:9103', 'localhost:9103', false],
    ['http://localhost', 'localhost:80', false],
    ['https://kart.example', 'kart.example', false], // TLS ended at the proxy
    ['https://evil.example', 'kart.example', true],
    ['null', 'kart.example', true],
    ['not a url', 'kart.example', true],
  ])('Origin %s for Host %s is foreign: %s', (origin, host, foreign) => {
    expect(foreignOrigin({ headers: origin === undefined ? {} : { origin }, host })).toBe(foreign);
  });
});

describe('Turkish messages', () => {
  it('by code and field, never naming a value', () => {
    expect(turkishMessage({ code: 'INVALID_INPUT' }, 'tcKimlikNo')).toBe(
      'TC kimlik numarası geçersiz: 11 hane ve doğru kontrol haneleri olmalı',
    );
    expect(turkishMessage({ code: 'CARD_TAKEN' }, 'cardNo')).toBe('Bu kart başka bir kişiyle eşleşmiş');
    expect(turkishMessage({ code: 'RATE_LIMITED', retryAfterSeconds: 3000 }, 'tcKimlikNo')).toBe(
      'Bu TC kimlik numarasıyla çok fazla deneme yapıldı. Lütfen yaklaşık 50 dakika sonra yeniden deneyin.',
    );
    expect(turkishMessage({ code: 'SOMETHING_NEW' }, null)).toContain('Beklenmeyen bir hata');
    expect(emptyFieldMessage('hesCode')).toBe('HES kodu girin');
  });

  it('shows instants in Istanbul time', () => {
    expect(dateTimeTr('2026-12-01T10:00:00.000Z')).toBe('1 Aralık 2026 13:00');
    expect(dateTimeTr(null)).toBe('—');
  });
});
