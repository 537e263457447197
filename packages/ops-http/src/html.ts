/**
 * HTML built only through `html`: every interpolated value is escaped unless it is itself `Html`
 * made here, so a card number, a reason typed by staff, a delivery error text or a hostile form
 * value can never become markup. There is no "raw string" escape hatch on purpose. Shared by the
 * pages of the registry API and the exporter's day pages.
 */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export type HtmlValue = Html | string | number | boolean | null | undefined | readonly HtmlValue[];

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (c) => ESCAPES[c] ?? c);
}

function render(value: HtmlValue): string {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  // false, null and undefined render nothing, so `${cond && html`…`}` reads naturally.
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): Html {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

/** An attribute present or not (`disabled`, `checked`, `autofocus`, `open`). */
export const flag = (name: 'checked' | 'autofocus' | 'open' | 'hidden', on: boolean): Html =>
  new Html(on ? ` ${name}` : '');
