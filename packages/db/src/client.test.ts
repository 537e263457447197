import { createDb } from './client';

// No server is needed: a pool connects only when asked for a client.
const URL = 'postgres://boarding:pw@127.0.0.1:1/boarding';

describe('createDb pool settings', () => {
  it('limits the wait for a connection and keeps TCP keepalive on by default', async () => {
    const { pool } = createDb({ url: URL });
    try {
      expect(pool.options).toMatchObject({ connectionTimeoutMillis: 10_000, keepAlive: true });
    } finally {
      await pool.end();
    }
  });

  it('lets the caller choose its own limit', async () => {
    const { pool } = createDb({ url: URL, pool: { connectionTimeoutMillis: 500, max: 2 } });
    try {
      expect(pool.options).toMatchObject({ connectionTimeoutMillis: 500, max: 2, keepAlive: true });
    } finally {
      await pool.end();
    }
  });
});
