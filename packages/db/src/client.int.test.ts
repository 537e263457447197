import { createServer, type Socket } from 'node:net';
import { withTimeout } from '@boarding/lifecycle/time-limit';
import { createDb } from './client';
import { classifyDatabaseError } from './errors';

/** `work`, or a clear failure if it is still pending after `ms` (a bound, not a measurement). */
const settleWithin = <T>(ms: number, work: Promise<T>): Promise<T> =>
  withTimeout(ms, work, () => new Error(`still pending after ${ms} ms`));

async function failure(run: Promise<unknown>): Promise<unknown> {
  try {
    await run;
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure, the pool gave a connection');
}

// With the default limit (10 s): both run at once so the file stays short.
describe('createDb: a pool never waits forever for a connection', () => {
  it.concurrent('a pool whose only connection is taken fails the next acquire with a transient error', async () => {
    const { pool } = createDb({ pool: { max: 1 } });
    const held = await pool.connect();
    try {
      const err = await settleWithin(30_000, failure(pool.connect()));
      expect((err as Error).message).toMatch(/timeout exceeded when trying to connect/);
      expect(classifyDatabaseError(err)).toBe('transient');
    } finally {
      held.release();
      await settleWithin(5_000, pool.end()).catch(() => undefined);
    }
  });

  it.concurrent('a database that accepts the connection but never answers: the acquire fails and the connection is closed', async () => {
    // A black hole in place of PostgreSQL (a hung server, or packets lost on the way).
    // Self-contained: @boarding/testing (and its TcpProxy) depends on this package.
    const sockets = new Set<Socket>();
    let closed = 0;
    const server = createServer({ allowHalfOpen: true }, (socket) => {
      sockets.add(socket);
      socket.on('data', () => undefined);
      socket.on('error', () => undefined);
      socket.on('end', () => closed++);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    const { pool } = createDb({ url: `postgres://boarding:pw@127.0.0.1:${address.port}/boarding` });
    try {
      const err = await settleWithin(30_000, failure(pool.connect()));
      expect(classifyDatabaseError(err)).toBe('transient');
      expect(sockets.size).toBe(1);
      for (let i = 0; i < 100 && closed === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(closed).toBe(1);
    } finally {
      await settleWithin(5_000, pool.end()).catch(() => undefined);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
