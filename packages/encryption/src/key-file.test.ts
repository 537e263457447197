import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blindIndex } from './blind-index';
import { decryptField, encryptField, keyIdOf } from './field-cipher';
import { addKeyToFile, defaultKeyFilePath, generateKeyFile } from './key-file';
import { KeyringError } from './keyring';
import { readKeyFile } from './load-keyring';

// Synthetic keys only.
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

const modeOf = (path: string) => statSync(path).mode & 0o777;

describe('generateKeyFile', () => {
  it('writes a loadable mode-0600 file with a month kid and random keys, in a 0700 directory', () => {
    const path = join(dir, 'keys', 'pii.json');
    const { keyId } = generateKeyFile(path, { now: new Date('2026-11-20T10:00:00Z') });
    expect(keyId).toBe('k2026-11');
    expect(modeOf(path)).toBe(0o600);
    expect(modeOf(join(dir, 'keys'))).toBe(0o700);
    const json = JSON.parse(readFileSync(path, 'utf8'));
    expect(json).toEqual({
      version: 1,
      activeKeyId: 'k2026-11',
      keys: { 'k2026-11': expect.stringMatching(/^[A-Za-z0-9+/]{43}=$/) },
      indexKey: expect.stringMatching(/^[A-Za-z0-9+/]{43}=$/),
    });
    expect(json.indexKey).not.toBe(json.keys['k2026-11']);
    const ring = readKeyFile(path);
    expect(ring.activeKeyId).toBe('k2026-11');
    expect(decryptField(ring, encryptField(ring, TC, 'tc'), 'tc')).toBe(TC);
  });

  it('refuses to overwrite an existing file and leaves it unchanged', () => {
    const path = join(dir, 'pii.json');
    generateKeyFile(path, { keyId: 'k1' });
    const before = readFileSync(path, 'utf8');
    const err = thrown(() => generateKeyFile(path, { keyId: 'k1' }));
    expect(err).toBeInstanceOf(KeyringError);
    expect((err as KeyringError).code).toBe('PII_KEY_FILE_EXISTS');
    expect(err.message).toContain(path);
    expect(readFileSync(path, 'utf8')).toBe(before);
  });

  it('puts the development key under .local/keys/pii.json', () => {
    expect(defaultKeyFilePath('/repo')).toMatch(/\/\.local\/keys\/pii\.json$/);
  });
});

describe('addKeyToFile (rotation)', () => {
  it('adds an active key, keeps the old ones and the index key, so old rows still decrypt', () => {
    const path = join(dir, 'pii.json');
    generateKeyFile(path, { keyId: 'k1' });
    const before = readKeyFile(path);
    const oldRow = encryptField(before, TC, 'tc');
    const oldIndex = blindIndex(before, TC, 'tc');
    const indexKeyBefore = JSON.parse(readFileSync(path, 'utf8')).indexKey;

    const { keyId, previousKeyId } = addKeyToFile(path, { now: new Date('2026-12-01T00:00:00Z') });
    expect({ keyId, previousKeyId }).toEqual({ keyId: 'k2026-12', previousKeyId: 'k1' });
    expect(modeOf(path)).toBe(0o600);
    expect(JSON.parse(readFileSync(path, 'utf8')).indexKey).toBe(indexKeyBefore);

    const after = readKeyFile(path);
    expect(after.keyIds()).toEqual(['k1', 'k2026-12']);
    expect(decryptField(after, oldRow, 'tc')).toBe(TC);
    expect(keyIdOf(encryptField(after, TC, 'tc'))).toBe('k2026-12');
    expect(blindIndex(after, TC, 'tc').equals(oldIndex)).toBe(true);
  });

  it('suffixes the kid when rotating twice in a month, and keeps a 0400 file at 0400', () => {
    const path = join(dir, 'pii.json');
    const now = new Date('2026-11-05T00:00:00Z');
    generateKeyFile(path, { now });
    chmodSync(path, 0o400);
    expect(addKeyToFile(path, { now }).keyId).toBe('k2026-11-2');
    expect(addKeyToFile(path, { now }).keyId).toBe('k2026-11-3');
    expect(modeOf(path)).toBe(0o400);
    expect(readKeyFile(path).keyIds()).toEqual(['k2026-11', 'k2026-11-2', 'k2026-11-3']);
  });

  it('refuses a kid that is already in the file', () => {
    const path = join(dir, 'pii.json');
    generateKeyFile(path, { keyId: 'k1' });
    expect(() => addKeyToFile(path, { keyId: 'k1' })).toThrow(/k1 is already in the key file/);
  });
});
