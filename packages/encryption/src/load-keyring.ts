/**
 * Loading the keyring a process runs with: from the environment (`PII_KEY_FILE`, or `PII_KEYS` +
 * `PII_ACTIVE_KEY_ID` + `PII_INDEX_KEY`) or from a key file.
 */
import { isAbsolute, resolve } from 'node:path';
import { ConfigError, loadEnv } from '@boarding/config/env';
import { findRepoRoot } from '@boarding/config/paths';
import { z } from 'zod';
import { Base64Key, KeyId, readVerifiedKeyFile } from './key-file';
import { KEY_ID_PATTERN, Keyring } from './keyring';

/** `kid:base64,kid2:base64` → kid → base64. Entries are named by position, never by content. */
const DataKeyList = z.string().transform((text, ctx) => {
  const keys: Record<string, string> = {};
  text.split(',').forEach((raw, i) => {
    const where = `entry ${i + 1}`;
    const entry = raw.trim();
    const colon = entry.indexOf(':');
    if (colon <= 0) {
      ctx.addIssue({ code: 'custom', message: `${where} is not kid:base64key` });
      return;
    }
    const kid = entry.slice(0, colon);
    // An invalid kid is not printed either: it may be a key pasted into the wrong place.
    if (!KEY_ID_PATTERN.test(kid)) {
      ctx.addIssue({ code: 'custom', message: `${where}: key id must be 1–16 characters of a-z, 0-9 and -` });
      return;
    }
    if (Object.hasOwn(keys, kid)) {
      ctx.addIssue({ code: 'custom', message: `${where}: key id ${kid} appears twice` });
      return;
    }
    const key = Base64Key.safeParse(entry.slice(colon + 1));
    if (!key.success) {
      ctx.addIssue({ code: 'custom', message: `${where} (${kid}): key ${key.error.issues[0]?.message}` });
      return;
    }
    keys[kid] = key.data;
  });
  return keys;
});

const KEY_VARS = ['PII_KEYS', 'PII_ACTIVE_KEY_ID', 'PII_INDEX_KEY'] as const;

/**
 * Where the PII keys come from: a key file (development, hosts with a secrets volume), or three
 * variables (hosts whose secret store injects the environment). Exactly one of the two.
 */
export const PiiKeyEnv = z
  .object({
    // Path of the JSON key file, mode 0600 or 0400. A relative path is taken from the repository
    // root, because commands run from any workspace directory.
    PII_KEY_FILE: z.string().min(1).optional(),
    // AES-256 data keys as `kid:base64,kid2:base64`. Old kids stay listed so old rows decrypt.
    PII_KEYS: DataKeyList.optional(),
    // The kid of PII_KEYS that encrypts new values.
    PII_ACTIVE_KEY_ID: KeyId.optional(),
    // HMAC-SHA-256 key of the blind index, base64 of 32 bytes. Never rotated in place (README).
    PII_INDEX_KEY: Base64Key.optional(),
  })
  .superRefine((env, ctx) => {
    const given = KEY_VARS.filter((name) => env[name] !== undefined);
    if (env.PII_KEY_FILE !== undefined) {
      if (given.length > 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['PII_KEY_FILE'],
          message: `set either PII_KEY_FILE or ${KEY_VARS.join('/')}, not both (${given.join(', ')} also set)`,
        });
      }
      return;
    }
    if (given.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['PII_KEY_FILE'],
        message: `set PII_KEY_FILE, or ${KEY_VARS.join(', ')}`,
      });
      return;
    }
    for (const name of KEY_VARS) {
      if (env[name] === undefined) {
        ctx.addIssue({ code: 'custom', path: [name], message: 'required when PII_KEY_FILE is not set' });
      }
    }
    const keys = env.PII_KEYS;
    const active = env.PII_ACTIVE_KEY_ID;
    if (typeof keys === 'object' && typeof active === 'string' && !Object.hasOwn(keys, active)) {
      ctx.addIssue({
        code: 'custom',
        path: ['PII_ACTIVE_KEY_ID'],
        message: `key id ${active} is not among PII_KEYS (${Object.keys(keys).join(', ')})`,
      });
    }
  });
export type PiiKeyEnv = z.infer<typeof PiiKeyEnv>;

/** Build a keyring from base64 strings, dropping the decoded copies once the `KeyObject`s hold them. */
function keyringFromBase64(activeKeyId: string, keys: Record<string, string>, indexKey: string): Keyring {
  const dataKeys = Object.fromEntries(
    Object.entries(keys).map(([kid, b64]) => [kid, Buffer.from(b64, 'base64')]),
  );
  const index = Buffer.from(indexKey, 'base64');
  try {
    return new Keyring({ activeKeyId, dataKeys, indexKey: index });
  } finally {
    for (const key of Object.values(dataKeys)) key.fill(0);
    index.fill(0);
  }
}

/** `PII_KEY_FILE` as given: absolute, or relative to the repository root. */
export function resolveKeyFilePath(path: string): string {
  return isAbsolute(path) ? path : resolve(findRepoRoot(), path);
}

/**
 * The keyring from the environment (process env over `.local/stack.env`, or `source`): the key
 * file named by `PII_KEY_FILE`, else `PII_KEYS` + `PII_ACTIVE_KEY_ID` + `PII_INDEX_KEY`.
 * Throws `ConfigError` naming the variable, or `KeyringError` naming the file.
 */
export function loadKeyring(source?: Record<string, string | undefined>): Keyring {
  const env = loadEnv(PiiKeyEnv, source);
  if (env.PII_KEY_FILE !== undefined) return readKeyFile(resolveKeyFilePath(env.PII_KEY_FILE));
  const { PII_KEYS, PII_ACTIVE_KEY_ID, PII_INDEX_KEY } = env;
  // The schema already demands all three; this only narrows the types.
  if (PII_KEYS === undefined || PII_ACTIVE_KEY_ID === undefined || PII_INDEX_KEY === undefined) {
    throw new ConfigError([`${KEY_VARS.join(', ')} must all be set when PII_KEY_FILE is not set`]);
  }
  return keyringFromBase64(PII_ACTIVE_KEY_ID, PII_KEYS, PII_INDEX_KEY);
}

/** Load a keyring from a key file, refusing one that group or others can access. */
export function readKeyFile(path: string): Keyring {
  const file = readVerifiedKeyFile(path);
  return keyringFromBase64(file.activeKeyId, file.keys, file.indexKey);
}
