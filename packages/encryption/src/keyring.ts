/**
 * The keyring at run time: the keys held in memory, handed to the cipher and the blind index, and
 * passed to worker threads. Where keys come from is `load-keyring.ts`; writing key files is
 * `key-file.ts`.
 */
import { createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';
import { inspect } from 'node:util';

/** AES-256 data keys and the HMAC-SHA-256 index key are both 32 bytes. */
export const KEY_BYTES = 32;

/** The rule of `KeyId` (key-file.ts), for the hot path where a zod parse per value would cost too much. */
export const KEY_ID_PATTERN = /^[a-z0-9-]{1,16}$/;

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
      throw new KeyringError('PII_KEYRING_INVALID', `invalid PII keyring:\n${listProblems(problems)}`);
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
   * The keys for a worker thread (`keyring-worker-pool.ts`). KeyObjects travel by structured
   * clone (workerData / postMessage), never as strings or base64 on the way.
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

/** The one layout of the problem lists in `KeyringError` messages (the keyring's and the key file's). */
export function listProblems(problems: string[]): string {
  return problems.map((p) => `  - ${p}`).join('\n');
}
