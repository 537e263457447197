import { createDb } from '@boarding/db/client';
import { InMemoryHesVerifier } from '@boarding/hes/in-memory-verifier';
import { TcpProxy } from '@boarding/testing/tcp-proxy';
import { createRegistryApi } from './registry-api';
import {
  type ApiRig,
  bearer,
  createApiRig,
  TEST_BODY_LIMIT,
  TEST_RATE_LIMITS,
} from './registry-api.test-helpers';

describe('registry API: errors as SPEC §9 JSON', () => {
  let rig: ApiRig;
  let staffKey: string;

  beforeAll(async () => {
    rig = await createApiRig('regapi_errors');
    staffKey = (await rig.keyFor('STAFF')).key;
  });
  afterAll(() => rig.close());

  const lookup = (payload: unknown, headers: Record<string, string> = {}) =>
    rig.app.inject({
      method: 'POST',
      url: '/v1/staff/card-lookup',
      headers: { ...bearer(staffKey), ...headers },
      payload: payload as string,
    });

  it('404 NO_CURRENT_MATCH for a card the registry does not hold', async () => {
    const res = await lookup({ cardNo: '0000000000000001' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      code: 'NO_CURRENT_MATCH',
      field: 'cardNo',
      message: 'cardNo: the card has no current match (with this TC kimlik no, where one was given)',
    });
  });

  it('400 naming the field: missing, wrong type, unknown field', async () => {
    expect((await lookup({})).json()).toMatchObject({ code: 'INVALID_INPUT', field: 'cardNo' });
    expect((await lookup({ cardNo: 42 })).json()).toEqual({
      code: 'INVALID_INPUT',
      field: 'cardNo',
      message: 'cardNo: must be string',
    });
    const extra = await lookup({ cardNo: '0000000000000001', tc: '17291716060' });
    expect(extra.statusCode).toBe(400);
    expect(extra.json()).toMatchObject({ code: 'INVALID_INPUT', field: null });
    expect(extra.body).not.toContain('17291716060');
  });

  it('400 INVALID_JSON for a body that is not JSON, 415 for another media type', async () => {
    const bad = await lookup('{"cardNo":', { 'content-type': 'application/json' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({ code: 'INVALID_JSON', field: null, message: 'body: not valid JSON' });
    const text = await lookup('cardNo=1', { 'content-type': 'text/plain' });
    expect(text.statusCode).toBe(415);
    expect(text.json()).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', field: null });
  });

  it('413 BODY_TOO_LARGE for a body over the limit, before it is parsed', async () => {
    const res = await lookup({ cardNo: '0000000000000001', pad: 'x'.repeat(TEST_BODY_LIMIT) });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({ code: 'BODY_TOO_LARGE', field: null, message: 'request body too large' });
  });

  it('404 NOT_FOUND in the same shape for an unknown route', async () => {
    const res = await rig.app.inject({ url: '/v1/nothing' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ code: 'NOT_FOUND', field: null, message: 'no such route' });
  });

  it('503 on /readyz and DATABASE_UNAVAILABLE on a route while PostgreSQL is away, both back after', async () => {
    const target = new URL(rig.database.url);
    const proxy = await new TcpProxy(target.hostname, Number(target.port)).up();
    const viaProxy = new URL(rig.database.url);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    const { db, pool } = createDb({ url: viaProxy.toString(), pool: { connectionTimeoutMillis: 2000 } });
    const app = createRegistryApi({
      db,
      keyring: rig.keyring,
      logger: rig.logger,
      bodyLimitBytes: TEST_BODY_LIMIT,
      hes: new InMemoryHesVerifier(),
      rateLimits: TEST_RATE_LIMITS,
    });
    try {
      expect((await app.inject({ url: '/readyz' })).statusCode).toBe(200);
      await proxy.down();
      const ready = await app.inject({ url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toMatchObject({ status: 'not ready' });
      expect(ready.body).not.toContain(target.password);
      const me = await app.inject({ url: '/v1/me', headers: bearer(staffKey) });
      expect(me.statusCode).toBe(503);
      expect(me.json()).toMatchObject({ code: 'DATABASE_UNAVAILABLE', field: null });
      await proxy.up();
      expect((await app.inject({ url: '/readyz' })).statusCode).toBe(200);
    } finally {
      await app.close();
      await pool.end();
      await proxy.down();
    }
  });

  it('a database that hangs (connection open, no answer): 503 on /readyz and on a route, in bounded time', async () => {
    const target = new URL(rig.database.url);
    const proxy = await new TcpProxy(target.hostname, Number(target.port)).up();
    const viaProxy = new URL(rig.database.url);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    const { db, pool } = createDb({
      url: viaProxy.toString(),
      // Past /readyz's own 2 s limit, so the readiness answer below is that limit's, not pg's.
      pool: { connectionTimeoutMillis: 2000, query_timeout: 4000 },
    });
    const app = createRegistryApi({
      db,
      keyring: rig.keyring,
      logger: rig.logger,
      bodyLimitBytes: TEST_BODY_LIMIT,
      hes: new InMemoryHesVerifier(),
      rateLimits: TEST_RATE_LIMITS,
    });
    try {
      // Two pooled connections first, then the black hole: their next queries are sent and never
      // answered (/readyz and the route each take one, at the same time).
      const warm = await Promise.all([app.inject({ url: '/readyz' }), app.inject({ url: '/readyz' })]);
      expect(warm.map((r) => r.statusCode)).toEqual([200, 200]);
      expect(pool.totalCount).toBe(2);
      proxy.stall();
      const started = Date.now();
      const timed = async <T>(work: Promise<T>) => ({ value: await work, ms: Date.now() - started });
      const [ready, me] = await Promise.all([
        timed(app.inject({ url: '/readyz' })),
        timed(app.inject({ url: '/v1/me', headers: bearer(staffKey) })),
      ]);
      expect(ready.value.statusCode).toBe(503);
      expect(ready.value.json()).toMatchObject({ status: 'not ready', postgres: 'TIMEOUT' });
      expect(ready.ms).toBeLessThan(3500);
      expect(me.value.statusCode).toBe(503);
      expect(me.value.json()).toMatchObject({ code: 'DATABASE_UNAVAILABLE', field: null });
      expect(me.ms).toBeLessThan(8000);
    } finally {
      await app.close();
      // The proxy first: a stalled connection would keep pool.end() waiting for its close.
      await proxy.down();
      await pool.end();
    }
  });
});
