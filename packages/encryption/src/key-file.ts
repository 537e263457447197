/**
 * The key file: its format, reading it with its mode checked, and administering it (generate,
 * rotate). Loading a keyring for a process is `load-keyring.ts`.
 */
import { randomBytes } from 'node:crypto';
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
import { dirname, join } from 'node:path';
import { localDir } from '@boarding/config/paths';
import { z } from 'zod';
import { KEY_BYTES, KEY_ID_PATTERN, KeyringError, listProblems } from './keyring';

/** A key id is written into the header of every ciphertext, so it is short and never renamed. */
export const KeyId = z.string().regex(KEY_ID_PATTERN, 'must be 1–16 characters of a-z, 0-9 and -');
export type KeyId = z.infer<typeof KeyId>;

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** A 32-byte key as base64. Every message describes the shape of a key (its length), never the key. */
export const Base64Key = z
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

/** Where `boarding stack up` keeps the development key file: `.local/keys/pii.json`. */
export function defaultKeyFilePath(root?: string): string {
  return join(localDir(root), 'keys', 'pii.json');
}

/**
 * Parsed and validated contents of a key file, plus its mode (kept when rewriting it). Refuses a
 * file group or others can access. For `readKeyFile` (load-keyring.ts) and rotation.
 */
export function readVerifiedKeyFile(path: string): KeyFile & { mode: number } {
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
    throw new KeyringError('PII_KEY_FILE_INVALID', `key file ${path} is invalid:\n${listProblems(problems)}`);
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
