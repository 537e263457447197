/**
 * What `boarding doctor` may print of a setting. It is run by operators and pasted into tickets,
 * so a password, token or key never leaves the process: secret settings are only said to be set,
 * URLs lose their credentials and query, and any secret value that turns up in an error message is
 * masked.
 */

// PII_KEYS, PII_INDEX_KEY, REGISTRY_API_WEB_PAGE_KEY, EXPORTER_BOARD_TOKEN, any *_PASSWORD or
// *_SECRET. Not SFTP_HOST_KEY_SHA256 (a public fingerprint), PII_ACTIVE_KEY_ID (a key's name) or
// SFTP_PRIVATE_KEY_PATH (where the key is, not the key).
const SECRET_NAME = /(PASSWORD|SECRET|TOKEN|CREDENTIALS?)(_|$)|(^|_)KEYS?$/;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** `postgres://app:pw@host:5432/db?sslpassword=x` → `postgres://***@host:5432/db?…` (credentials and query hidden). */
export function withoutCredentials(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return value;
  }
  if (!url.host) return value;
  const userinfo = url.username !== '' || url.password !== '' ? '***@' : '';
  const path = url.pathname === '/' ? '' : url.pathname;
  return `${url.protocol}//${userinfo}${url.host}${path}${url.search !== '' ? '?…' : ''}`;
}

/** A setting as doctor shows it: `set` for a secret, a URL without credentials, else the value. */
export function shownValue(name: string, value: string): string {
  if (isSecretName(name)) return 'set (secret, not shown)';
  return withoutCredentials(value);
}

/**
 * The secret parts of an environment: values of secret-named settings and the passwords and
 * user-info of URL settings. Masked wherever they appear in an error message.
 */
export function secretValues(env: Record<string, string | undefined>): string[] {
  const out = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || value === '') continue;
    if (isSecretName(name)) out.add(value);
    try {
      const url = new URL(value);
      if (url.password) {
        out.add(url.password);
        out.add(decodeURIComponent(url.password));
      }
      if (url.search) out.add(url.search.slice(1));
    } catch {
      // Not a URL: nothing inside it to mask.
    }
  }
  // Short values would mask ordinary words; no secret of ours is that short.
  return [...out].filter((s) => s.length >= 6).sort((a, b) => b.length - a.length);
}

/** `text` with every secret of `secrets` replaced by `***`, and URL credentials stripped. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join('***');
  // A URL with user-info that was not in the environment (a client echoing its config).
  return out.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@:]*:[^\s/@]*@/gi, '$1***@');
}
