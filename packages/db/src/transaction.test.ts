import type { Pool } from 'pg';
import { withTransaction } from './transaction';

/**
 * A pool of one client that records the statements it is sent and how it is released, failing
 * the statements named in `failures`. The cases here cannot be produced on demand with a real
 * server (a rollback failing on a connection that still looks usable); the integration test
 * covers the real connection.
 */
function poolOfOne(failures: Record<string, Error> = {}) {
  const sent: string[] = [];
  const released: unknown[] = [];
  const client = {
    query: async (text: string) => {
      sent.push(text);
      const failure = failures[text];
      if (failure !== undefined) throw failure;
      return { rows: [] };
    },
    release: (err?: Error | boolean) => {
      released.push(err);
    },
  };
  // The twin implements only what withTransaction uses: connect, query, release.
  const pool = { connect: async () => client } as unknown as Pool;
  return { pool, sent, released };
}

const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });

async function failure(run: Promise<unknown>): Promise<unknown> {
  try {
    await run;
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure, the transaction succeeded');
}

describe('withTransaction', () => {
  it('begins with the given statement, commits, and returns the client to the pool', async () => {
    const { pool, sent, released } = poolOfOne();
    const got = await withTransaction(
      pool,
      async (client) => {
        await client.query('select 1');
        return 42;
      },
      'begin isolation level repeatable read read only',
    );
    expect(got).toBe(42);
    expect(sent).toEqual(['begin isolation level repeatable read read only', 'select 1', 'commit']);
    expect(released).toEqual([undefined]);
  });

  it('rolls back on an error of the work and keeps the client: its connection is fine', async () => {
    const { pool, sent, released } = poolOfOne();
    const refused = pgError('40001', 'could not serialize access due to concurrent update');
    const err = await failure(
      withTransaction(pool, async () => {
        throw refused;
      }),
    );
    expect(err).toBe(refused);
    expect(sent).toEqual(['begin', 'rollback']);
    expect(released).toEqual([undefined]);
  });

  it('throws the work’s error and destroys the client when the rollback fails', async () => {
    const rollbackFailed = new Error('rollback failed on a connection that still looks usable');
    const { pool, sent, released } = poolOfOne({ rollback: rollbackFailed });
    const workError = new Error('the work’s own error');
    const err = await failure(
      withTransaction(pool, async () => {
        throw workError;
      }),
    );
    expect(err).toBe(workError);
    expect(sent).toEqual(['begin', 'rollback']);
    expect(released).toEqual([rollbackFailed]);
  });

  it.each([
    [
      'the server ended the session (57P01)',
      pgError('57P01', 'terminating connection due to administrator command'),
    ],
    ['a connection exception (08006)', pgError('08006', 'connection failure')],
    ['the socket was reset', pgError('ECONNRESET', 'read ECONNRESET')],
    ['the driver lost the connection', new Error('Connection terminated unexpectedly')],
  ])('destroys the client without a rollback when %s', async (_case, lost) => {
    const { pool, sent, released } = poolOfOne({ 'select 1': lost });
    const err = await failure(withTransaction(pool, (client) => client.query('select 1')));
    expect(err).toBe(lost);
    expect(sent).toEqual(['begin', 'select 1']);
    expect(released).toEqual([lost]);
  });

  it('sees a lost connection behind a wrapper (drizzle puts the driver’s error in `cause`)', async () => {
    const lost = pgError('57P01', 'terminating connection due to administrator command');
    const wrapped = new Error('Failed query: select 1', { cause: lost });
    const { pool, sent, released } = poolOfOne({ 'select 1': wrapped });
    expect(await failure(withTransaction(pool, (client) => client.query('select 1')))).toBe(wrapped);
    expect(sent).toEqual(['begin', 'select 1']);
    expect(released).toEqual([wrapped]);
  });

  it('treats a failed commit like any other error: rolled back, the original error thrown', async () => {
    const conflict = pgError('23505', 'duplicate key value violates unique constraint');
    const { pool, sent, released } = poolOfOne({ commit: conflict });
    expect(await failure(withTransaction(pool, async () => 'written'))).toBe(conflict);
    expect(sent).toEqual(['begin', 'commit', 'rollback']);
    expect(released).toEqual([undefined]);
  });
});
