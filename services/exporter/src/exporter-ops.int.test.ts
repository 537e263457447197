import { InMemoryTransport } from '@boarding/delivery/memory-transport';
import { createExporterRig, type ExporterRig } from './exporter.test-helpers';

const TOKEN = 'board-token-for-the-ops-test-0123456789';
const withBoard = { EXPORTER_BOARD_TOKEN: TOKEN };
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('exporter: ops routes', () => {
  let rig: ExporterRig;

  beforeAll(async () => {
    rig = await createExporterRig('ops', { sftp: false });
  });
  afterAll(async () => {
    await rig.teardown();
  });

  describe('happy', () => {
    it('answers /healthz, /readyz (PostgreSQL and Redis answer) and /metrics', async () => {
      const { ops } = rig.createService({ deps: { transport: new InMemoryTransport() } });
      const health = await ops.inject({ url: '/healthz' });
      expect([health.statusCode, health.json()]).toEqual([200, { status: 'ok' }]);
      const ready = await ops.inject({ url: '/readyz' });
      expect([ready.statusCode, ready.json()]).toEqual([
        200,
        { status: 'ready', postgres: 'ok', redis: 'ok' },
      ]);
      const metrics = await ops.inject({ url: '/metrics' });
      expect(metrics.statusCode).toBe(200);
      expect(metrics.body).toContain('boarding_export_failing_days 0');
      for (const name of [
        'boarding_export_jobs_total',
        'boarding_export_days_total',
        'boarding_export_alerts_total',
        'boarding_export_last_success_timestamp_seconds',
      ]) {
        expect(metrics.body).toContain(`# TYPE ${name}`);
      }
    });

    it('serves Bull Board with the token as Bearer or as the Basic password, and lists the queue', async () => {
      const { ops } = rig.createService({
        deps: { transport: new InMemoryTransport() },
        overrides: withBoard,
      });
      const page = await ops.inject({ url: '/board', headers: { authorization: `Bearer ${TOKEN}` } });
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-type']).toContain('text/html');
      expect(page.body).toContain('<title>boarding exporter</title>');
      const api = await ops.inject({
        url: '/board/api/queues',
        headers: { authorization: basic('ops', TOKEN) },
      });
      expect(api.statusCode).toBe(200);
      expect(api.json().queues.map((q: { name: string }) => q.name)).toEqual([rig.env.EXPORT_QUEUE]);
    });

    it('is read-only unless EXPORTER_BOARD_WRITE: a retry of the failed jobs is refused (405), allowed when on', async () => {
      const retry = `/board/api/queues/${rig.env.EXPORT_QUEUE}/retry/failed`;
      const headers = { authorization: `Bearer ${TOKEN}` };
      const readOnly = rig.createService({
        deps: { transport: new InMemoryTransport() },
        overrides: withBoard,
      });
      expect((await readOnly.ops.inject({ method: 'PUT', url: retry, headers })).statusCode).toBe(405);
      const writable = rig.createService({
        deps: { transport: new InMemoryTransport() },
        overrides: { ...withBoard, EXPORTER_BOARD_WRITE: 'true' },
      });
      expect((await writable.ops.inject({ method: 'PUT', url: retry, headers })).statusCode).toBe(200);
    });
  });

  describe('error', () => {
    it('is not ready (503) when Redis does not answer, and says which dependency is down', async () => {
      const { ops } = rig.createService({
        deps: { transport: new InMemoryTransport() },
        overrides: { REDIS_URL: 'redis://127.0.0.1:1' },
      });
      const ready = await ops.inject({ url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toMatchObject({ status: 'not ready', postgres: 'ok' });
      expect(ready.json().redis).not.toBe('ok');
      // A code (ECONNREFUSED, TIMEOUT …), never the error's text with hosts and ports.
      expect(ready.json().redis).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(ready.body).not.toContain('127.0.0.1');
    });
  });

  describe('security', () => {
    it.each([
      ['no credentials', undefined],
      ['a wrong Bearer token', 'Bearer board-token-for-the-ops-test-0123456788'],
      ['a wrong Basic password', basic('ops', 'not-the-board-token-at-all-000000')],
      ['the token as the Basic user name', basic(TOKEN, '')],
      ['another scheme', `Token ${TOKEN}`],
    ])(
      'answers 401 with a Basic challenge to %s, on pages, assets and the API',
      async (_what, authorization) => {
        const { ops } = rig.createService({
          deps: { transport: new InMemoryTransport() },
          overrides: withBoard,
        });
        for (const url of ['/board', '/board/', '/board/api/queues', '/board/static/favicon-32x32.png']) {
          const res = await ops.inject({ url, headers: authorization ? { authorization } : {} });
          expect([url, res.statusCode]).toEqual([url, 401]);
          expect(res.headers['www-authenticate']).toBe('Basic realm="boarding"');
          expect(res.body).not.toContain(rig.env.EXPORT_QUEUE);
        }
      },
    );

    it('does not mount the board at all (404) when no token is configured', async () => {
      const { ops } = rig.createService({ deps: { transport: new InMemoryTransport() } });
      expect(
        (await ops.inject({ url: '/board', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode,
      ).toBe(404);
      expect((await ops.inject({ url: '/board/api/queues' })).statusCode).toBe(404);
      expect((await ops.inject({ url: '/healthz' })).statusCode).toBe(200);
    });
  });
});
