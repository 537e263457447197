import type { ApiError } from '../api-error';

/**
 * The API's error codes, as a citizen or a staff member reads them: one Turkish sentence per
 * code, and per field where the field changes what to do. The pages show these, never the API's
 * English message, and never the value that was typed.
 */

/** What the field holds, to start the message of an empty or invalid field. */
export const FIELD_LABELS: Readonly<Record<string, string>> = {
  cardNo: 'Kart numarası',
  newCardNo: 'Yeni kart numarası',
  tcKimlikNo: 'TC kimlik numarası',
  hesCode: 'HES kodu',
  cardKind: 'Kart türü',
  newCardKind: 'Yeni kartın türü',
  reason: 'Gerekçe',
  key: 'Cihaz anahtarı',
};

const CARD_NO_RULE = 'kartın üzerindeki 8–20 karakterlik numarayı (0–9 ve A–F) girin';

// INVALID_INPUT per field: the rule the value breaks, not the value.
const INVALID: Readonly<Record<string, string>> = {
  cardNo: `Kart numarası geçersiz: ${CARD_NO_RULE}`,
  newCardNo: `Yeni kart numarası geçersiz: ${CARD_NO_RULE}`,
  tcKimlikNo: 'TC kimlik numarası geçersiz: 11 hane ve doğru kontrol haneleri olmalı',
  hesCode: 'HES kodu geçersiz: harf ve rakamlardan oluşan 10 karakter olmalı (tire ve boşluklar yok sayılır)',
  cardKind: 'Kart türünü seçin: Kişisel veya Anonim',
  newCardKind: 'Yeni kartın türünü seçin: Kişisel veya Anonim',
  reason: 'Gerekçe geçersiz: en az 5, en çok 500 karakterlik bir açıklama yazın',
  matchId: 'Eşleşme numarası geçersiz',
  key: 'Cihaz anahtarı geçersiz ya da iptal edilmiş',
};

const CARD_TAKEN: Readonly<Record<string, string>> = {
  cardNo: 'Bu kart başka bir kişiyle eşleşmiş',
  newCardNo: 'Yeni kart başka bir kişiyle eşleşmiş',
};

// Codes whose text does not depend on the field.
const GENERAL: Readonly<Record<string, string>> = {
  HES_CODE_MISMATCH:
    'Bu HES kodu bu TC kimlik numarasına ait değil: HES kodunuzu kontrol edin ya da yeni bir HES kodu alın',
  CARD_KIND_CONFLICT: 'Bu kart diğer kart türüyle kayıtlı: kart türünü kontrol edin',
  MATCH_OVERLAP: 'Aynı anda bu kart ya da kişi için başka bir işlem yapıldı. Lütfen yeniden deneyin.',
  NO_CURRENT_MATCH: 'Bu kart numarası ve TC kimlik numarasıyla geçerli bir eşleşme bulunamadı',
  MATCH_NOT_FOUND: 'Eşleşme bulunamadı ya da daha önce düzeltilmiş',
  EMPTY_RANGE: 'Geçerlilik aralığı boş: bitiş, başlangıçtan sonra olmalı',
  HES_SERVICE_UNAVAILABLE:
    'HES servisine şu anda ulaşılamıyor. İşlem yapılmadı; lütfen birkaç dakika sonra yeniden deneyin.',
  DATABASE_UNAVAILABLE:
    'Kayıt sistemine şu anda ulaşılamıyor. İşlem yapılmadı; lütfen birkaç dakika sonra yeniden deneyin.',
  WRONG_CHANNEL: 'Bu cihaz bu işlem için yetkili değil.',
  UNAUTHENTICATED: 'Bu cihazın anahtarı geçersiz ya da iptal edilmiş.',
  BODY_TOO_LARGE: 'Gönderilen form çok büyük.',
  UNSUPPORTED_MEDIA_TYPE: 'Form tanınmayan bir biçimde gönderildi.',
  INVALID_REQUEST: 'Form okunamadı. Lütfen sayfayı yenileyip yeniden deneyin.',
  FOREIGN_ORIGIN: 'Bu form başka bir siteden gönderilmiş; işlem yapılmadı.',
  INTERNAL: 'Beklenmeyen bir hata oldu. Lütfen yeniden deneyin; sorun sürerse görevliye başvurun.',
};

/** An empty required field: what to type, not that it is wrong. */
export function emptyFieldMessage(field: string): string {
  const label = FIELD_LABELS[field];
  if (field === 'cardKind' || field === 'newCardKind') return INVALID[field] ?? 'Bir seçenek seçin';
  return label === undefined ? 'Bu alanı doldurun' : `${label} girin`;
}

/** The Turkish text for an API error, `field` being the form field it is shown next to. */
export function turkishMessage(
  error: Pick<ApiError, 'code' | 'retryAfterSeconds'>,
  field: string | null,
): string {
  switch (error.code) {
    case 'INVALID_INPUT':
      return (field === null ? undefined : INVALID[field]) ?? 'Girilen bilgilerden biri geçersiz';
    case 'CARD_TAKEN':
      return (field === null ? undefined : CARD_TAKEN[field]) ?? 'Bu kart başka bir kişiyle eşleşmiş';
    case 'RATE_LIMITED':
      return rateLimited(field, error.retryAfterSeconds);
    default:
      return GENERAL[error.code] ?? GENERAL.INTERNAL ?? '';
  }
}

function rateLimited(field: string | null, retryAfterSeconds: number | undefined): string {
  const minutes =
    retryAfterSeconds === undefined ? undefined : Math.max(1, Math.ceil(retryAfterSeconds / 60));
  const when = minutes === undefined ? 'daha sonra' : `yaklaşık ${minutes} dakika sonra`;
  return field === 'tcKimlikNo'
    ? `Bu TC kimlik numarasıyla çok fazla deneme yapıldı. Lütfen ${when} yeniden deneyin.`
    : `Bu cihazdan çok fazla istek geldi. Lütfen ${when} yeniden deneyin.`;
}

const CHANNELS: Readonly<Record<string, string>> = {
  WEB: 'İnternet',
  KIOSK: 'Kiosk',
  ACTIVATION_POINT: 'Aktivasyon noktası',
  STAFF: 'Personel',
  API: 'API',
  IMPORT: 'Toplu aktarım',
  ADMIN: 'Yönetici',
};

export const channelName = (channel: string): string => CHANNELS[channel] ?? channel;

export const cardKindName = (kind: string): string =>
  kind === 'PERSONAL' ? 'Kişisel' : kind === 'ANONYMOUS' ? 'Anonim' : kind;

export const hesStatusName = (status: string | null): string =>
  status === 'RISKY' ? 'Riskli' : status === 'RISKLESS' ? 'Risksiz' : 'Sorgulanmadı';

const DATE_TIME = new Intl.DateTimeFormat('tr-TR', {
  dateStyle: 'long',
  timeStyle: 'short',
  timeZone: 'Europe/Istanbul',
});

/** An ISO instant as Istanbul wall time (the registry's clock is UTC; people read local time). */
export function dateTimeTr(iso: string | null | undefined): string {
  if (iso === null || iso === undefined || iso === '') return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '—' : DATE_TIME.format(date);
}
