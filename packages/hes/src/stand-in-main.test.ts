import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HesStandInEnv, startHesStandIn } from './stand-in-main';

describe('startHesStandIn', () => {
  it('serves the data file on the configured address until stopped', async () => {
    const data = join(mkdtempSync(join(tmpdir(), 'hes-main-')), 'hes.json');
    writeFileSync(
      data,
      JSON.stringify([{ hesCode: 'ABCD1234X9', tcKimlikNo: '17291716060', status: 'RISKY' }]),
    );
    const env = HesStandInEnv.parse({ HES_STAND_IN_DATA: data, HES_STAND_IN_PORT: '0' });
    const running = await startHesStandIn(env, {});
    const res = await fetch(`${running.url}/v1/verify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tc: '17291716060', hes: 'ABCD1234X9' }),
    });
    expect(await res.json()).toEqual({ status: 'RISKY' });
    await running.stop();
  });

  it('refuses to start in production before reading anything', async () => {
    const env = HesStandInEnv.parse({ HES_STAND_IN_DATA: '/nonexistent.json' });
    await expect(startHesStandIn(env, { NODE_ENV: 'production' })).rejects.toThrow(/never.*production/);
  });
});
