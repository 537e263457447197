import { DAY_MS, ISTANBUL_OFFSET_MS } from '@boarding/contracts/time';

const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
let cachedDay = Number.NaN;
let cachedDate = '';

/**
 * `2020-11-20T08:15:42.120+03:00`: an instant as a validator's clock writes it, always at +03:00
 * (before 2016 that is not Istanbul's wall clock in winter, but still the same instant). Called
 * for every message of a day, so the date part is cached and the time written by hand (3x faster
 * than `toISOString`, which it equals).
 */
export function istanbulIso(ms: number): string {
  const local = ms + ISTANBUL_OFFSET_MS;
  const day = Math.floor(local / DAY_MS);
  if (day !== cachedDay) {
    cachedDay = day;
    cachedDate = new Date(day * DAY_MS).toISOString().slice(0, 11);
  }
  let rest = local - day * DAY_MS;
  const millis = rest % 1000;
  rest = (rest - millis) / 1000;
  const seconds = rest % 60;
  rest = (rest - seconds) / 60;
  const minutes = rest % 60;
  const hours = (rest - minutes) / 60;
  const frac = millis < 10 ? `00${millis}` : millis < 100 ? `0${millis}` : String(millis);
  return `${cachedDate}${TWO_DIGITS[hours]}:${TWO_DIGITS[minutes]}:${TWO_DIGITS[seconds]}.${frac}+03:00`;
}
