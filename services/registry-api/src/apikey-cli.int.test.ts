import { spawnBoarding } from '@boarding/testing/cli-process';
import { type ApiRig, bearer, createApiRig } from './registry-api.test-helpers';

describe('a key made by `boarding apikey create` opens the API', () => {
  let rig: ApiRig;

  beforeAll(async () => {
    rig = await createApiRig('regapi_cli');
  });
  afterAll(() => rig.close());

  it('creates a kiosk key in a child process; the API knows its channel and location; revoke closes it', async () => {
    const env = { ...process.env, DATABASE_URL: rig.database.url };
    const created = await spawnBoarding(
      [
        'apikey',
        'create',
        '--channel',
        'KIOSK',
        '--location',
        'pier-karsiyaka',
        '--label',
        'iskele 1',
        '--json',
      ],
      env,
    ).done;
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const { id, key } = JSON.parse(created.stdout) as { id: string; key: string };

    const me = await rig.app.inject({ url: '/v1/me', headers: bearer(key) });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toEqual({ keyId: id, channel: 'KIOSK', locationId: 'pier-karsiyaka' });

    const revoked = await spawnBoarding(['apikey', 'revoke', id], env).done;
    expect(revoked.code).toBe(0);
    expect((await rig.app.inject({ url: '/v1/me', headers: bearer(key) })).statusCode).toBe(401);
  });

  it('exits 1 with a clear message for a kiosk key at an unknown location', async () => {
    const run = await spawnBoarding(['apikey', 'create', '--channel', 'KIOSK', '--location', 'nowhere'], {
      ...process.env,
      DATABASE_URL: rig.database.url,
    }).done;
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('unknown location');
    expect(run.stderr).toContain('[UNKNOWN_LOCATION]');
    expect(run.stdout).toBe('');
  });
});
