import { createSecretKey, type KeyObject, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fchmodSync,
  fstatSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { inspect } from 'node:util';
import { ConfigError, loadEnv } from '@boarding/config/env';
import { findRepoRoot, localDir } from '@boarding/config/paths';
import { z } from 'zod';

/** AES-256 data keys and the HMAC-SHA-256 index key are both 32 bytes. */
export const KEY_BYTES = 32;

/** Same rule as `KeyId`, for the hot path where a zod parse per value would cost too much. */
export const KEY_ID_PATTERN = /^[a-z0-9-]{1,16}$/;

/** A key id is written into the header of every ciphertext, so it is short and never renamed. */
export const KeyId = z.string().regex(KEY_ID_PATTERN, 'must be 1–16 characters of a-z, 0-9 and -');
export type KeyId = z.infer<typeof KeyId>;

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

// Every message below describes the shape of a key (its length), never the key itself.
const Base64Key = z
  .string()
  .trim()
  .regex(BASE64, 'must be base64')
  .superRefine((text, ctx) => {
    const length = Buffer.from(text, 'base64').length;
    if (length !== KEY_BYTES) {
      ctx.addIssue({ code: 'custom', message: `must decode to exactly ${KEY_BYTES} bytes (got ${length})` });
    }
  });

/** The key file as stored on disk (base64 strings). Written by `generateKeyFile`. */
export const KeyFile = z
  .strictObject({
    version: z.literal(1),
    activeKeyId: KeyId,
    keys: z.record(KeyId, Base64Key),
    indexKey: Base64Key,
  })
  .superRefine((file, ctx) => {
    if (typeof file.activeKeyId !== 'string' || typeof file.keys !== 'object' || file.keys === null) return;
    if (!Object.hasOwn(file.keys, file.activeKeyId)) {
      ctx.addIssue({
        code: 'custom',
        path: ['activeKeyId'],
        message: `key id ${file.activeKeyId} is not among keys`,
      });
    }
  });
export type KeyFile = z.infer<typeof KeyFile>;

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

export type KeyringErrorCode =
  /** The keys given break an invariant (length, unknown active kid, index key reused). */
  | 'PII_KEYRING_INVALID'
  /** The key file is readable or writable by group or others. */
  | 'PII_KEY_FILE_INSECURE'
  | 'PII_KEY_FILE_UNREADABLE'
  | 'PII_KEY_FILE_INVALID'
  /** `generateKeyFile` found a file already there; keys are never overwritten. */
  | 'PII_KEY_FILE_EXISTS';

/** Keys could not be loaded or written. Messages name the file and the problem, never key material. */
export class KeyringError extends Error {
  readonly retryable = false;
  constructor(
    readonly code: KeyringErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'KeyringError';
  }
}

export type KeyringInput = {
  activeKeyId: string;
  /** kid → 32-byte AES-256 key. */
  dataKeys: Record<string, Uint8Array>;
  /** 32-byte HMAC-SHA-256 key of the blind index. */
  indexKey: Uint8Array;
};

export type KeyringWorkerData = {
  activeKeyId: string;
  dataKeys: Record<string, KeyObject>;
  indexKey: KeyObject;
};

/**
 * The data keys by kid, the active kid for new writes, and the blind-index key. Keys are held as
 * `KeyObject`s in private fields: built once, reused for every value, and left out of
 * `console.log`, `util.inspect` and `JSON.stringify`, which show only the kids.
 */
export class Keyring {
  readonly activeKeyId: string;
  readonly #dataKeys: ReadonlyMap<string, KeyObject>;
  readonly #activeKey: KeyObject;
  readonly #indexKey: KeyObject;

  constructor(input: KeyringInput) {
    const problems: string[] = [];
    const entries = Object.entries(input.dataKeys);
    if (entries.length === 0) problems.push('no data keys');
    for (const [kid, key] of entries) {
      if (!KEY_ID_PATTERN.test(kid)) {
        problems.push('a key id is not 1–16 characters of a-z, 0-9 and -');
      } else if (key.length !== KEY_BYTES) {
        problems.push(`key ${kid} is ${key.length} bytes, not ${KEY_BYTES}`);
      } else if (input.indexKey.length === KEY_BYTES && timingSafeEqual(key, input.indexKey)) {
        // One key for two purposes would tie the blind index to a data key's rotation and leaks.
        problems.push(`the index key equals data key ${kid}; they must be independent`);
      }
    }
    if (input.indexKey.length !== KEY_BYTES) {
      problems.push(`index key is ${input.indexKey.length} bytes, not ${KEY_BYTES}`);
    }
    if (!Object.hasOwn(input.dataKeys, input.activeKeyId)) {
      problems.push(
        `active key id ${KEY_ID_PATTERN.test(input.activeKeyId) ? input.activeKeyId : '(invalid)'} is not among the data keys`,
      );
    }
    if (problems.length > 0) {
      throw new KeyringError('PII_KEYRING_INVALID', `invalid PII keyring:\n${list(problems)}`);
    }
    this.activeKeyId = input.activeKeyId;
    this.#dataKeys = new Map(entries.map(([kid, key]) => [kid, createSecretKey(key)]));
    this.#activeKey = this.#must(input.activeKeyId);
    this.#indexKey = createSecretKey(input.indexKey);
  }

  #must(kid: string): KeyObject {
    const key = this.#dataKeys.get(kid);
    if (key === undefined) throw new KeyringError('PII_KEYRING_INVALID', `key ${kid} is not in the keyring`);
    return key;
  }

  /** All kids this keyring can decrypt, the active one included. */
  keyIds(): string[] {
    return [...this.#dataKeys.keys()];
  }

  hasKey(kid: string): boolean {
    return this.#dataKeys.has(kid);
  }

  /** The key for new writes. For `field-cipher` only. */
  activeKey(): { keyId: string; key: KeyObject } {
    return { keyId: this.activeKeyId, key: this.#activeKey };
  }

  /** The key a stored value names in its header, if this keyring has it. For `field-cipher` only. */
  dataKey(kid: string): KeyObject | undefined {
    return this.#dataKeys.get(kid);
  }

  /** For `blind-index` only. */
  indexKey(): KeyObject {
    return this.#indexKey;
  }

  /**
   * The keys for a worker thread (bulk import sealing). KeyObjects travel by structured clone
   * (workerData / postMessage), never as strings or base64 on the way.
   */
  toWorkerData(): KeyringWorkerData {
    return {
      activeKeyId: this.activeKeyId,
      dataKeys: Object.fromEntries(this.#dataKeys),
      indexKey: this.#indexKey,
    };
  }

  static fromWorkerData(data: KeyringWorkerData): Keyring {
    const dataKeys = Object.fromEntries(
      Object.entries(data.dataKeys).map(([kid, key]) => [kid, key.export()]),
    );
    const indexKey = data.indexKey.export();
    try {
      return new Keyring({ activeKeyId: data.activeKeyId, dataKeys, indexKey });
    } finally {
      for (const key of Object.values(dataKeys)) key.fill(0);
      indexKey.fill(0);
    }
  }

  toJSON(): { activeKeyId: string; keyIds: string[] } {
    return { activeKeyId: this.activeKeyId, keyIds: this.keyIds() };
  }

  [inspect.custom](): string {
    return `Keyring { activeKeyId: '${this.activeKeyId}', keyIds: [${this.keyIds().join(', ')}] }`;
  }
}

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

/** Where `boarding stack up` keeps the development key file: `.local/keys/pii.json`. */
export function defaultKeyFilePath(root?: string): string {
  return join(localDir(root), 'keys', 'pii.json');
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

/** Parsed and validated contents of a key file, plus its mode (kept when rewriting it). */
function readVerifiedKeyFile(path: string): KeyFile & { mode: number } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new KeyringError('PII_KEY_FILE_UNREADABLE', `key file ${path} cannot be opened (${errnoOf(err)})`);
  }
  let text: string;
  let mode: number;
  try {
    // fstat on the open descriptor: the file checked is the file read, even if renamed meanwhile.
    const stat = fstatSync(fd);
    if (!stat.isFile())
      throw new KeyringError('PII_KEY_FILE_UNREADABLE', `key file ${path} is not a regular file`);
    mode = stat.mode & 0o777;
    if (mode !== 0o600 && mode !== 0o400) {
      const who = (mode & 0o077) !== 0 ? 'is accessible by group or others' : 'has the wrong permissions';
      throw new KeyringError(
        'PII_KEY_FILE_INSECURE',
        `key file ${path} ${who} (mode ${octal(mode)}); it must be 0600 or 0400: chmod 600 ${path}`,
      );
    }
    text = readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // The parser's message quotes the text around the error, which would be key material.
    throw new KeyringError('PII_KEY_FILE_INVALID', `key file ${path} is not valid JSON`);
  }
  const result = KeyFile.safeParse(json);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      // An invalid record key would be printed by its path; say what is wrong without it.
      if (issue.code === 'invalid_key') {
        return `${issue.path.slice(0, -1).join('.')}: a key id is not 1–16 characters of a-z, 0-9 and -`;
      }
      return `${issue.path.join('.') || '(top level)'}: ${issue.message}`;
    });
    throw new KeyringError('PII_KEY_FILE_INVALID', `key file ${path} is invalid:\n${list(problems)}`);
  }
  return { ...result.data, mode };
}

export type KeyIdOptions = {
  /** Kid to use instead of the month-based default (`k2026-11`). */
  keyId?: string;
  /** Clock for the default kid. */
  now?: Date;
};

/**
 * Write a fresh key file (one data key, one index key) with mode 0600, creating its directory
 * with mode 0700. Refuses to overwrite anything: replacing a key file loses every encrypted row.
 */
export function generateKeyFile(path: string, options: KeyIdOptions = {}): { keyId: string } {
  const keyId = chooseKeyId(options, []);
  if (existsSync(path)) {
    throw new KeyringError(
      'PII_KEY_FILE_EXISTS',
      `key file ${path} already exists; refusing to overwrite keys`,
    );
  }
  const file: KeyFile = {
    version: 1,
    activeKeyId: keyId,
    keys: { [keyId]: randomKey() },
    indexKey: randomKey(),
  };
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = writeTempFile(path, file, 0o600);
  try {
    // link() fails if the path exists, so a racing writer cannot be overwritten either, and a
    // reader never sees a half-written file.
    linkSync(tmp, path);
  } catch (err) {
    if (errnoOf(err) === 'EEXIST') {
      throw new KeyringError(
        'PII_KEY_FILE_EXISTS',
        `key file ${path} already exists; refusing to overwrite keys`,
      );
    }
    throw err;
  } finally {
    unlinkSync(tmp);
  }
  return { keyId };
}

/**
 * Rotation: add a fresh data key and make it active. The old keys stay, so existing rows still
 * decrypt; the index key is kept as is, because changing it would change every blind index.
 * The file is replaced atomically and keeps its mode.
 */
export function addKeyToFile(
  path: string,
  options: KeyIdOptions = {},
): { keyId: string; previousKeyId: string } {
  const { mode, ...current } = readVerifiedKeyFile(path);
  const keyId = chooseKeyId(options, Object.keys(current.keys));
  const next: KeyFile = {
    ...current,
    activeKeyId: keyId,
    keys: { ...current.keys, [keyId]: randomKey() },
  };
  const tmp = writeTempFile(path, next, mode);
  try {
    renameSync(tmp, path);
  } catch (err) {
    unlinkSync(tmp);
    throw err;
  }
  return { keyId, previousKeyId: current.activeKeyId };
}

/** The given kid, or `k<yyyy>-<mm>` (UTC), suffixed `-2`, `-3`… when rotated twice in a month. */
function chooseKeyId(options: KeyIdOptions, taken: string[]): string {
  if (options.keyId !== undefined) {
    if (!KEY_ID_PATTERN.test(options.keyId)) {
      throw new KeyringError('PII_KEYRING_INVALID', 'key id must be 1–16 characters of a-z, 0-9 and -');
    }
    if (taken.includes(options.keyId)) {
      throw new KeyringError('PII_KEYRING_INVALID', `key id ${options.keyId} is already in the key file`);
    }
    return options.keyId;
  }
  const now = options.now ?? new Date();
  const base = `k${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
  let kid = base;
  for (let n = 2; taken.includes(kid); n++) kid = `${base}-${n}`;
  return kid;
}

function randomKey(): string {
  return randomBytes(KEY_BYTES).toString('base64');
}

/** Write `file` beside `path` under a unique name with `mode`, flushed to disk; returns its path. */
function writeTempFile(path: string, file: KeyFile, mode: number): string {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'wx', mode);
  try {
    // The mode given to open() passes through the umask; set it exactly.
    fchmodSync(fd, mode);
    writeSync(fd, `${JSON.stringify(file, null, 2)}\n`);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkSync(tmp);
    throw err;
  }
  closeSync(fd);
  return tmp;
}

function errnoOf(err: unknown): string {
  return typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : 'unknown error';
}

function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}

function list(problems: string[]): string {
  return problems.map((p) => `  - ${p}`).join('\n');
}
