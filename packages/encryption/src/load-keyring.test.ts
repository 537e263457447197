import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@boarding/config/env';
import { encryptField, keyIdOf } from './field-cipher';
import { generateKeyFile } from './key-file';
import { KeyringError } from './keyring';
import { loadKeyring, readKeyFile } from './load-keyring';

// Synthetic keys only.
const KEY_A = Buffer.alloc(32, 0x11).toString('base64');
const KEY_B = Buffer.alloc(32, 0x33).toString('base64');
const INDEX = Buffer.alloc(32, 0x22).toString('base64');
const SHORT = Buffer.alloc(16, 0x55).toString('base64');
const TC = '17291716060';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pii-keys-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function thrown(run: () => unknown): Error {
  try {
    run();
  } catch (err) {
    if (err instanceof Error) return err;
  }
  throw new Error('expected an error, nothing was thrown');
}

function writeKeyFile(name: string, body: unknown, mode: number): string {
  const path = join(dir, name);
  writeFileSync(path, typeof body === 'string' ? body : JSON.stringify(body));
  chmodSync(path, mode);
  return path;
}

describe('readKeyFile', () => {
  const valid = { version: 1, activeKeyId: 'k1', keys: { k1: KEY_A }, indexKey: INDEX };

  it('refuses a file group or others can read, naming the path and not the keys', () => {
    const path = writeKeyFile('pii.json', valid, 0o644);
    const err = thrown(() => readKeyFile(path));
    expect(err).toBeInstanceOf(KeyringError);
    expect((err as KeyringError).code).toBe('PII_KEY_FILE_INSECURE');
    expect(err.message).toContain(path);
    expect(err.message).toContain('0644');
    expect(err.message).toContain('0600 or 0400');
    expect(err.message).not.toContain(KEY_A);
    expect(err.message).not.toContain(INDEX);
  });

  it('accepts 0600 and 0400 and nothing else', () => {
    expect(readKeyFile(writeKeyFile('a.json', valid, 0o600)).activeKeyId).toBe('k1');
    expect(readKeyFile(writeKeyFile('b.json', valid, 0o400)).activeKeyId).toBe('k1');
    for (const mode of [0o640, 0o604, 0o700, 0o660]) {
      expect(() => readKeyFile(writeKeyFile(`m${mode}.json`, valid, mode))).toThrow(/must be 0600 or 0400/);
    }
  });

  it('names a missing file', () => {
    const path = join(dir, 'absent.json');
    expect(() => readKeyFile(path)).toThrow(`key file ${path} cannot be opened (ENOENT)`);
  });

  it('reports a short key by its kid without printing it', () => {
    const path = writeKeyFile('pii.json', { ...valid, keys: { k1: SHORT } }, 0o600);
    const err = thrown(() => readKeyFile(path));
    expect((err as KeyringError).code).toBe('PII_KEY_FILE_INVALID');
    expect(err.message).toContain('keys.k1: must decode to exactly 32 bytes (got 16)');
    expect(err.message).not.toContain(SHORT);
  });

  it('reports an active kid that has no key, and a bad kid without printing it', () => {
    const path = writeKeyFile('a.json', { ...valid, activeKeyId: 'k2' }, 0o600);
    expect(() => readKeyFile(path)).toThrow(/activeKeyId: key id k2 is not among keys/);
    const badKid = writeKeyFile('b.json', { ...valid, keys: { k1: KEY_A, [KEY_B]: KEY_B } }, 0o600);
    const err = thrown(() => readKeyFile(badKid));
    expect(err.message).toContain('keys: a key id is not 1–16 characters');
    expect(err.message).not.toContain(KEY_B);
  });

  it('does not quote the text of a file that is not JSON', () => {
    const path = writeKeyFile('pii.json', `{"indexKey": ${KEY_A}}`, 0o600);
    const err = thrown(() => readKeyFile(path));
    expect(err.message).toBe(`key file ${path} is not valid JSON`);
    expect(err.message).not.toContain(KEY_A.slice(0, 10));
  });

  it('refuses an index key that equals a data key', () => {
    const path = writeKeyFile('pii.json', { ...valid, indexKey: KEY_A }, 0o600);
    expect(() => readKeyFile(path)).toThrow(/index key equals data key k1/);
  });
});

describe('loadKeyring from the environment', () => {
  const env = { PII_KEYS: `k1:${KEY_A},k2:${KEY_B}`, PII_ACTIVE_KEY_ID: 'k2', PII_INDEX_KEY: INDEX };

  function configError(source: Record<string, string | undefined>): ConfigError {
    const err = thrown(() => loadKeyring(source));
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }

  it('builds a keyring from PII_KEYS, PII_ACTIVE_KEY_ID and PII_INDEX_KEY', () => {
    const ring = loadKeyring(env);
    expect(ring.activeKeyId).toBe('k2');
    expect(ring.keyIds()).toEqual(['k1', 'k2']);
    expect(keyIdOf(encryptField(ring, TC, 'tc'))).toBe('k2');
  });

  it('reads the file named by PII_KEY_FILE', () => {
    const path = join(dir, 'pii.json');
    generateKeyFile(path, { keyId: 'k7' });
    expect(loadKeyring({ PII_KEY_FILE: path }).activeKeyId).toBe('k7');
  });

  it('names PII_KEY_FILE when no key source is set', () => {
    expect(configError({}).message).toContain('PII_KEY_FILE is not set');
  });

  it('refuses both a key file and key variables', () => {
    expect(configError({ ...env, PII_KEY_FILE: '/k.json' }).message).toMatch(/PII_KEY_FILE: set either/);
  });

  it('names a missing companion variable', () => {
    expect(configError({ PII_KEYS: env.PII_KEYS, PII_INDEX_KEY: INDEX }).message).toContain(
      'PII_ACTIVE_KEY_ID is not set (required when PII_KEY_FILE is not set)',
    );
  });

  it('names PII_KEYS and the entry for a malformed or short key, never printing it', () => {
    const malformed = configError({ ...env, PII_KEYS: `k1:${KEY_A},${KEY_B}` });
    expect(malformed.message).toContain('PII_KEYS: entry 2 is not kid:base64key');
    expect(malformed.message).not.toContain(KEY_B);

    const short = configError({ ...env, PII_KEYS: `k1:${KEY_A},k2:${SHORT}` });
    expect(short.message).toContain('PII_KEYS: entry 2 (k2): key must decode to exactly 32 bytes (got 16)');
    expect(short.message).not.toContain(SHORT);

    const badKid = configError({ ...env, PII_KEYS: `K_1:${KEY_A}` });
    expect(badKid.message).toContain('PII_KEYS: entry 1: key id must be');
    expect(badKid.message).not.toContain(KEY_A);
  });

  it('names PII_ACTIVE_KEY_ID when it is not among PII_KEYS', () => {
    expect(configError({ ...env, PII_ACTIVE_KEY_ID: 'k3' }).message).toContain(
      'PII_ACTIVE_KEY_ID: key id k3 is not among PII_KEYS (k1, k2)',
    );
  });

  it('names PII_INDEX_KEY when it is not 32 bytes of base64', () => {
    const err = configError({ ...env, PII_INDEX_KEY: SHORT });
    expect(err.message).toContain('PII_INDEX_KEY: must decode to exactly 32 bytes (got 16)');
    expect(err.message).not.toContain(SHORT);
    expect(configError({ ...env, PII_INDEX_KEY: 'not base64!' }).message).toContain(
      'PII_INDEX_KEY: must be base64',
    );
  });
});
