import { apiKeyId, apiKeyMatches, hashApiKey, newApiKey } from './api-key-format';

describe('API key format', () => {
  it('makes keys that carry their public id and 32 random bytes, different every time', () => {
    const a = newApiKey();
    const b = newApiKey();
    expect(a.key).toMatch(/^bk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(apiKeyId(a.key)).toBe(a.id);
    expect(a.key).not.toBe(b.key);
    expect(a.id).not.toBe(b.id);
  });

  it('reads no id from anything not shaped like a key (SQL, a bare id, a truncated key)', () => {
    const { key, id } = newApiKey();
    expect(apiKeyId("bk_' or 1=1 --")).toBeNull();
    expect(apiKeyId(id)).toBeNull();
    expect(apiKeyId(key.slice(0, -1))).toBeNull();
    expect(apiKeyId(`${key} `)).toBeNull();
  });

  it('matches a key only against the hash of that very key', () => {
    const { key } = newApiKey();
    const other = newApiKey().key;
    expect(hashApiKey(key)).toHaveLength(32);
    expect(apiKeyMatches(key, hashApiKey(key))).toBe(true);
    expect(apiKeyMatches(other, hashApiKey(key))).toBe(false);
    expect(apiKeyMatches(key, Buffer.alloc(3))).toBe(false);
  });
});
