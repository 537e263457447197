import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readStackEnv, writeStackEnv } from '@boarding/config/stack-env';
import type { Check } from '@boarding/doctor/check';
import { spawnBoarding } from '@boarding/testing/cli-process';
import { createTestDatabase, type TestDatabase } from '@boarding/testing/database';

type Report = { ok: boolean; services: string[]; checks: Check[] };

/** A loopback port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The local stack's own settings (`.local/stack.env`), read only. */
const stack = readStackEnv();

/** The secrets of the local stack, which no output of doctor may contain. */
const stackSecrets = ['DATABASE_URL', 'REDIS_URL']
  .map((name) => new URL(stack[name] ?? 'x://h').password)
  .filter((p) => p.length > 0);

describe('boarding doctor', () => {
  let database: TestDatabase;
  let scratch: string;
  // The caller's environment without any of the stack's settings: each run says where they come from.
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !(k in stack) && !k.startsWith('BOARDING_')),
  );

  beforeAll(async () => {
    // Its own migrated database: the key check records its first use there, not in the stack's.
    database = await createTestDatabase('cli_doctor');
    scratch = mkdtempSync(join(tmpdir(), 'boarding-doctor-'));
  });
  afterAll(async () => {
    await database?.drop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('passes every check of every service on the healthy local stack and exits 0', async () => {
    const env = {
      ...base,
      DATABASE_URL: database.url,
      // Only the registry API and the status relay need it; the local stack does not run one.
      HES_SERVICE_URL: 'http://127.0.0.1:9105',
    };
    const json = await spawnBoarding(['doctor', '--json'], env).done;
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as Report;
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.services).toEqual(['ingest', 'exporter', 'registry-api', 'status-relay']);
    const named = (name: string) => report.checks.find((c) => c.name === name);
    for (const name of [
      'postgres',
      'migrations',
      'redis',
      'kafka',
      'taps topic',
      'consumer group',
      'sftp',
      'pii keyring',
      'pii key check',
    ]) {
      expect([name, named(name)?.ok]).toEqual([name, true]);
    }
    expect(named('setting DATABASE_URL')?.detail).toMatch(
      /^postgres:\/\/\*\*\*@127\.0\.0\.1:\d+\/boarding_cli_doctor_\w+ \(from environment\)/,
    );
    expect(named('setting KAFKA_BROKERS')?.detail).toMatch(/\(from stack\.env\)/);
    expect(named('setting EXPORT_CRON')?.detail).toMatch(/^30 3 \* \* \* \(default\)/);
    expect(named('taps topic')?.detail).toMatch(/^validator\.taps\.v1: \d+ partitions, retention /);
    expect(named('consumer group')?.detail).toMatch(
      /^boarding-ingest on validator\.taps\.v1: \w+, \d+ member\(s\), lag \d+ \(p0 \d+/,
    );

    const human = await spawnBoarding(['doctor', '--service', 'ingest'], env).done;
    expect(human.code).toBe(0);
    const lines = human.stdout.trim().split('\n');
    expect(lines.slice(0, -1).every((l) => l.startsWith('✓ '))).toBe(true);
    expect(lines.at(-1)).toMatch(/^all \d+ checks passed \(ingest\)$/);
    for (const secret of stackSecrets)
      expect(json.stdout + human.stdout + human.stderr).not.toContain(secret);
  });

  it('fails a wrong port and a missing setting, naming the fix, exits 1 and prints no secret', async () => {
    // A settings file like the stack's, with PostgreSQL on a port nothing listens on and no REDIS_URL.
    const local = join(scratch, 'broken');
    const url = new URL(stack.DATABASE_URL ?? '');
    url.port = String(await closedPort());
    const { REDIS_URL: _dropped, ...rest } = stack;
    mkdirSync(local);
    writeStackEnv({ ...rest, DATABASE_URL: url.toString() }, join(local, 'stack.env'));
    const token = `board-${'t'.repeat(30)}`;
    const env = { ...base, BOARDING_LOCAL_DIR: local, EXPORTER_BOARD_TOKEN: token };

    const human = await spawnBoarding(['doctor', '--service', 'exporter'], env).done;
    expect(human.code).toBe(1);
    const line = (name: string) => human.stdout.split('\n').find((l) => l.startsWith(`✗ ${name}:`));
    expect(line('setting REDIS_URL')).toBe(
      `✗ setting REDIS_URL: not set; needed by exporter — set REDIS_URL in the environment or in ${join(local, 'stack.env')}`,
    );
    expect(line('postgres')).toMatch(
      new RegExp(
        `ECONNREFUSED .*— nothing listens at postgres://\\*\\*\\*@127\\.0\\.0\\.1:${url.port}/boarding: .*correct the port in DATABASE_URL$`,
      ),
    );
    expect(line('migrations')).toBe('✗ migrations: not checked: PostgreSQL not reached');
    expect(line('redis')).toMatch(/not checked: REDIS_URL is missing or invalid/);
    expect(human.stdout).toMatch(
      /^✓ setting EXPORTER_BOARD_TOKEN: set \(secret, not shown\) \(from environment\)/m,
    );
    expect(human.stdout).toMatch(/^✓ kafka: /m);
    expect(human.stdout.trim().split('\n').at(-1)).toMatch(/^\d+ of \d+ checks failed \(exporter\)$/);
    for (const secret of [...stackSecrets, token]) {
      expect(human.stdout + human.stderr).not.toContain(secret);
    }

    const json = await spawnBoarding(['doctor', '--service', 'exporter', '--json'], env).done;
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as Report;
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => c.name === 'postgres')).toMatchObject({
      ok: false,
      fix: expect.stringContaining('correct the port in DATABASE_URL'),
    });
    for (const secret of [...stackSecrets, token]) expect(json.stdout).not.toContain(secret);
  });

  it('refuses an unknown service as a usage error', async () => {
    const run = await spawnBoarding(['doctor', '--service', 'billing'], base).done;
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/ingest, exporter, registry-api, status-relay/);
  });
});
