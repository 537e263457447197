import { randomBytes } from 'node:crypto';
import { flag, Html, html } from '@boarding/ops-http/html';
import type { FastifyReply } from 'fastify';

/**
 * The page shell and form parts every page shares. Accessibility rules kept here once: every
 * input has a `<label for>`, its hint and error are tied to it with aria-describedby, an invalid
 * field says aria-invalid and the first one takes the focus (autofocus: no script needed), the
 * error summary is role="alert", and the DOM order is the visual order (no positive tabindex, no
 * CSS reordering). No external asset: the CSS and the little script are inline, allowed by a
 * per-response CSP nonce.
 */

// Sized by the viewport's width between a 360 px phone and a 1080 px kiosk in portrait; black on
// white, the one accent dark blue (contrast 10:1), errors dark red (7.9:1), a focus ring no
// background hides (yellow inside black).
const CSS = `
*,*::before,*::after{box-sizing:border-box}
html{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",Arial,sans-serif;font-size:clamp(18px,1.6vw + 12px,32px);line-height:1.45;color:#111;background:#fff;-webkit-text-size-adjust:100%}
body{margin:0}
.wrap{max-width:42rem;margin:0 auto;padding:0 1rem}
.skip{position:absolute;left:-999em}
.skip:focus{position:static;display:block;padding:.5rem 1rem;background:#ffdd00;color:#111}
header.site{background:#0b2e6b;color:#fff;padding:.75rem 0;margin-bottom:1.25rem}
header.site a{color:#fff;font-weight:700;text-decoration:none}
h1{font-size:1.6rem;line-height:1.2;margin:.5rem 0 1rem}
h2{font-size:1.25rem;margin:1.5rem 0 .75rem}
p{margin:0 0 1rem}
a{color:#0b2e6b;text-decoration-thickness:2px;text-underline-offset:3px}
a:focus-visible,input:focus-visible,button:focus-visible,textarea:focus-visible,summary:focus-visible,[tabindex]:focus-visible{outline:4px solid #ffdd00;outline-offset:0;box-shadow:0 0 0 7px #111}
.field{margin:0 0 1.5rem;padding:0;border:0;min-width:0}
.field-error{border-left:5px solid #a4000f;padding-left:.75rem}
label,legend{display:block;font-weight:700;margin-bottom:.25rem}
.hint{color:#3b3b3b;margin:0 0 .35rem;font-size:.9rem}
.error-message{color:#a4000f;font-weight:700;margin:0 0 .35rem}
.check{color:#7a4a00;font-weight:700;margin:.35rem 0 0;font-size:.9rem}
.check:empty{display:none}
input[type=text],input[type=password],textarea{display:block;width:100%;font:inherit;padding:.5rem .6rem;min-height:2.75rem;border:2px solid #111;border-radius:0;background:#fff;color:#111}
input[aria-invalid=true],textarea[aria-invalid=true]{border:4px solid #a4000f}
textarea{min-height:5rem}
.radios{display:flex;flex-wrap:wrap;gap:.75rem}
.radio{display:flex;align-items:center;gap:.6rem;font-weight:400;border:2px solid #111;padding:.6rem 1rem;min-height:2.75rem;min-width:9rem;cursor:pointer}
.radio input{width:1.5rem;height:1.5rem;margin:0;accent-color:#0b2e6b}
button{font:inherit;font-weight:700;color:#fff;background:#0b2e6b;border:2px solid #0b2e6b;padding:.6rem 1.5rem;min-height:2.75rem;min-width:12rem;cursor:pointer}
button.secondary{background:#fff;color:#0b2e6b}
button.danger{background:#a4000f;border-color:#a4000f}
button[aria-disabled=true]{opacity:.7}
.error-summary{border:5px solid #a4000f;padding:1rem;margin:0 0 1.5rem}
.error-summary h2{margin-top:0}
.error-summary ul{margin:0;padding-left:1.25rem}
.error-summary a{color:#a4000f;font-weight:700}
.success{border:5px solid #00703c;padding:1rem;margin:0 0 1.5rem}
.success h2{margin-top:0;color:#00703c}
.notice{border-left:8px solid #0b2e6b;background:#eef2f8;padding:1rem;margin:0 0 1.5rem}
dl.facts{display:grid;grid-template-columns:minmax(8rem,max-content) 1fr;gap:.35rem 1rem;margin:0 0 1rem}
dl.facts dt{font-weight:700}
dl.facts dd{margin:0;overflow-wrap:anywhere}
nav.more ul{list-style:none;padding:0;margin:0;display:grid;gap:.75rem}
nav.more a{display:block;padding:.75rem 1rem;border:2px solid #0b2e6b;font-weight:700;text-decoration:none}
.table-scroll{overflow-x:auto;margin:0 0 1.5rem}
table{border-collapse:collapse;width:100%;font-size:.85rem}
th,td{border:1px solid #555;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#eef2f8}
details{border:2px solid #0b2e6b;padding:.5rem 1rem;margin:0 0 1rem}
summary{cursor:pointer;font-weight:700;padding:.25rem 0}
footer.site{margin-top:3rem;padding:1rem 0;border-top:1px solid #555;font-size:.85rem;color:#3b3b3b}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
`;

// Progressive help only: the TC check digits as you type (the server checks again and decides),
// and one submission per tap. Every page works without it.
const SCRIPT = `
(function(){
  function tcOk(v){if(!/^[1-9][0-9]{10}$/.test(v))return false;var d=v.split('').map(Number);
    var o=d[0]+d[2]+d[4]+d[6]+d[8],e=d[1]+d[3]+d[5]+d[7];
    return (((o*7-e)%10)+10)%10===d[9]&&(o+e+d[9])%10===d[10];}
  document.querySelectorAll('input[data-tc]').forEach(function(input){
    var out=document.getElementById(input.id+'-check');
    input.addEventListener('input',function(){
      var v=input.value.trim();
      out.textContent=v.length===11&&!tcOk(v)?'Bu numaranın kontrol haneleri tutmuyor; lütfen kontrol edin.':'';
    });
  });
  var forms=document.querySelectorAll('form');
  forms.forEach(function(form){
    form.addEventListener('submit',function(ev){
      if(form.dataset.sent){ev.preventDefault();return;}
      form.dataset.sent='1';
      form.querySelectorAll('button').forEach(function(b){b.setAttribute('aria-disabled','true');});
    });
  });
  // Back to a page kept in the browser's memory: its forms can be sent again.
  window.addEventListener('pageshow',function(){forms.forEach(function(form){
    delete form.dataset.sent;
    form.querySelectorAll('button').forEach(function(b){b.removeAttribute('aria-disabled');});
  });});
})();
`;

export type Page = {
  title: string;
  main: Html;
  /** Seconds after which the browser goes back to `/` (a kiosk clears a finished session). */
  returnHomeAfterSeconds?: number;
};

/** Sends a page with the headers every page has: no caching (personal data), no framing, CSP. */
export function sendPage(reply: FastifyReply, status: number, page: Page): FastifyReply {
  const nonce = randomBytes(16).toString('base64');
  return (
    reply
      .code(status)
      .header('content-type', 'text/html; charset=utf-8')
      .header(
        'content-security-policy',
        [
          "default-src 'none'",
          `style-src 'nonce-${nonce}'`,
          `script-src 'nonce-${nonce}'`,
          "form-action 'self'",
          "frame-ancestors 'none'",
          "base-uri 'none'",
        ].join('; '),
      )
      .header('cache-control', 'no-store')
      // Not no-referrer: under it browsers send `Origin: null` with a form post, which the CSRF
      // check (pages.ts) must refuse. No URL here carries personal data, and none leaves the site.
      .header('referrer-policy', 'same-origin')
      .header('x-content-type-options', 'nosniff')
      .header('x-frame-options', 'DENY')
      .send(renderDocument(page, nonce).text)
  );
}

export function renderDocument(page: Page, nonce: string): Html {
  const refresh =
    page.returnHomeAfterSeconds === undefined
      ? ''
      : html`<meta http-equiv="refresh" content="${page.returnHomeAfterSeconds};url=/">`;
  return html`<!doctype html>
<html lang="tr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
${refresh}
<title>${page.title} · Kart–HES eşleştirme</title>
<style nonce="${nonce}">${new Html(CSS)}</style>
</head>
<body>
<a class="skip" href="#main">İçeriğe geç</a>
<header class="site"><div class="wrap"><a href="/">Toplu ulaşım kartı · HES eşleştirme</a></div></header>
<main id="main" class="wrap" tabindex="-1">
${page.main}
</main>
<footer class="site"><div class="wrap">
<p>TC kimlik numaranız ve HES kodunuz bu sayfalarda hiçbir zaman açık olarak gösterilmez (KVKK).</p>
<p><a href="/device">Cihaz ayarları</a></p>
</div></footer>
<script nonce="${nonce}">${new Html(SCRIPT)}</script>
</body>
</html>`;
}

export type FieldError = { field: string | null; id?: string; message: string };

/** The summary at the top of a page that failed: each field error links to its field. */
export function errorSummary(errors: readonly FieldError[]): Html {
  if (errors.length === 0) return html``;
  return html`<div class="error-summary" role="alert" aria-labelledby="error-summary-title">
<h2 id="error-summary-title">Lütfen şunları düzeltin</h2>
<ul>${errors.map((e) =>
    e.id === undefined ? html`<li>${e.message}</li>` : html`<li><a href="#${e.id}">${e.message}</a></li>`,
  )}</ul>
</div>`;
}

export type TextInput = {
  id: string;
  name: string;
  label: string;
  hint?: string;
  value?: string;
  error?: string;
  autofocus?: boolean;
  type?: 'text' | 'password';
  inputMode?: 'numeric' | 'text';
  maxLength: number;
  required: boolean;
  /** Check the TC kimlik no's digits as it is typed (script only). */
  tcCheck?: boolean;
  /** Forced upper case while typing (card numbers and HES codes are upper case). */
  upperCase?: boolean;
};

export function textInput(f: TextInput): Html {
  const hintId = `${f.id}-hint`;
  const errorId = `${f.id}-error`;
  const described = [f.hint === undefined ? '' : hintId, f.error === undefined ? '' : errorId]
    .filter((s) => s !== '')
    .join(' ');
  const describedBy = described === '' ? '' : html` aria-describedby="${described}"`;
  const invalid = f.error === undefined ? '' : html` aria-invalid="true"`;
  const required = f.required ? html` aria-required="true"` : '';
  const tc = f.tcCheck ? html` data-tc="1"` : '';
  const upper = f.upperCase ? html` autocapitalize="characters"` : html` autocapitalize="off"`;
  return html`<div class="field${f.error === undefined ? '' : ' field-error'}">
<label for="${f.id}">${f.label}${f.required ? '' : ' (isteğe bağlı)'}</label>
${f.hint === undefined ? '' : html`<p class="hint" id="${hintId}">${f.hint}</p>`}
${f.error === undefined ? '' : html`<p class="error-message" id="${errorId}"><span class="visually-hidden">Hata: </span>${f.error}</p>`}
<input type="${f.type ?? 'text'}" id="${f.id}" name="${f.name}" value="${f.value ?? ''}" maxlength="${f.maxLength}" inputmode="${f.inputMode ?? 'text'}" autocomplete="off" spellcheck="false"${upper}${describedBy}${invalid}${required}${tc}${flag('autofocus', f.autofocus === true)}>
${f.tcCheck ? html`<p class="check" id="${f.id}-check" aria-live="polite"></p>` : ''}
</div>`;
}

export type RadioInput = {
  id: string;
  name: string;
  legend: string;
  options: readonly { value: string; label: string; hint?: string }[];
  value?: string;
  error?: string;
  autofocus?: boolean;
};

/** A radio group: a fieldset whose legend names it; each option's whole box is its label. */
export function radioInput(f: RadioInput): Html {
  const errorId = `${f.id}-error`;
  const invalid = f.error === undefined ? '' : html` aria-invalid="true"`;
  return html`<fieldset class="field${f.error === undefined ? '' : ' field-error'}"${f.error === undefined ? '' : html` aria-describedby="${errorId}"`}>
<legend>${f.legend}</legend>
${f.error === undefined ? '' : html`<p class="error-message" id="${errorId}"><span class="visually-hidden">Hata: </span>${f.error}</p>`}
<div class="radios">
${f.options.map(
  (o, i) =>
    html`<label class="radio" for="${i === 0 ? f.id : `${f.id}-${o.value}`}"><input type="radio" id="${i === 0 ? f.id : `${f.id}-${o.value}`}" name="${f.name}" value="${o.value}"${invalid}${flag('checked', f.value === o.value)}${flag('autofocus', f.autofocus === true && i === 0)}> <span>${o.label}${o.hint === undefined ? '' : html` <span class="hint">${o.hint}</span>`}</span></label>`,
)}
</div>
</fieldset>`;
}

export const hidden = (name: string, value: string): Html =>
  html`<input type="hidden" name="${name}" value="${value}">`;

/** Label/value pairs shown after a success: only what the API returned, masked as it returned it. */
export function facts(rows: readonly [string, string][]): Html {
  return html`<dl class="facts">${rows.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>`;
}
