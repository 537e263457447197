import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localDir } from '@boarding/config/paths';
import { planDay } from '@boarding/simulator/day';
import { killRunningBoardings, spawnBoarding } from '@boarding/testing/cli-process';

// The real `boarding demo` on the local stack, as `npm run demo` runs it, with --no-serve so that
// nothing outlives the test. It re-creates the demo's sandbox (database boarding_demo, demo
// topics) and stops servers an earlier demo left running, as every demo run does. A day no other
// test delivers, so the SFTP directory's files of other tests are not touched.
const DAY = '2020-10-07';
const TAPS = 2000;

describe('boarding demo, end to end on the local stack', () => {
  afterAll(() => killRunningBoardings());

  it('delivers the day, then matches a card through each channel of the API and stops its servers (--no-serve)', async () => {
    const { code, stdout, stderr } = await spawnBoarding(
      ['demo', '--taps', String(TAPS), '--day', DAY, '--no-serve', '--json'],
      { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1' },
    ).done;
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    const result = JSON.parse(stdout);

    expect(result.outcome).toBe('DELIVERED');
    expect(
      result.api.calls.map((c: { channel: string; status: number; outcome: string }) => [
        c.channel,
        c.status,
        c.outcome,
      ]),
    ).toEqual([
      ['WEB', 201, 'MATCHED'],
      ['KIOSK', 201, 'MATCHED'],
      ['ACTIVATION_POINT', 201, 'MATCHED'],
      ['STAFF', 200, 'FOUND'],
    ]);
    expect(result.api.calls[1].location).toBe('metro-konak');
    expect(result.api.calls[2].location).toBe('pier-karsiyaka');
    expect(result.api.page).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);

    // Stopped at the end: nothing listens any more, nothing is recorded for the next run to stop.
    expect(result.api.running).toEqual([]);
    await expect(fetch(result.api.page, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
    await expect(fetch(result.api.hesStandIn, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
    expect(existsSync(join(localDir(), 'demo', 'servers.json'))).toBe(false);

    // No key, TC, HES or card in clear in anything the demo printed.
    const printed = stdout + stderr;
    expect(printed).not.toContain('bk_');
    const people = [...planDay({ day: DAY, taps: TAPS, seed: 1 }).unmatchedPeople()].slice(0, 3);
    for (const p of people) {
      for (const value of [p.tcKimlikNo, p.hesCode, p.cardNo]) expect(printed).not.toContain(value);
    }

    // The matches hold from now on: the day's file, built again after them, is the same bytes.
    const settings = Object.fromEntries(
      readFileSync(result.envFile, 'utf8')
        .split('\n')
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    const out = mkdtempSync(join(tmpdir(), 'demo-rebuild-'));
    try {
      const rebuilt = await spawnBoarding(
        ['export', 'run', '--day', DAY, '--force', '--no-deliver', '--out', out, '--json'],
        { ...process.env, ...settings },
      ).done;
      expect(rebuilt.code).toBe(0);
      const manifest = JSON.parse(
        readFileSync(join(out, result.manifest.split('/').at(-1) as string), 'utf8'),
      ) as { sha256: string };
      expect(manifest.sha256).toBe(result.sha256);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 300_000);
});
