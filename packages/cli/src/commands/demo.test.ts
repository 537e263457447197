import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killRunningBoardings, spawnBoarding } from '@boarding/testing/cli-process';
import { registerDemo } from './demo';
import { runCommand } from './run-command.test-helpers';

// The local stack as `boarding stack up` describes it, in a private `.local/` of the test: the
// real checkout's stack is neither read nor touched. Its passwords must never be printed either.
const STACK_ENV = [
  'DATABASE_URL=postgres://boarding:stackpw@127.0.0.1:15432/boarding',
  'REDIS_URL=redis://:stackpw@127.0.0.1:16379',
  'KAFKA_BROKERS=127.0.0.1:19092',
  'SFTP_HOST=127.0.0.1',
  'SFTP_PORT=12222',
  'SFTP_REMOTE_DIR=/incoming',
  '',
].join('\n');

const PRODUCTION_DATABASE = 'postgres://u:secret@db.example.invalid:5432/x';

describe('boarding demo refuses targets other than the local stack', () => {
  let local: string;
  beforeEach(() => {
    local = mkdtempSync(join(tmpdir(), 'demo-targets-'));
    writeFileSync(join(local, 'stack.env'), STACK_ENV, { mode: 0o600 });
  });
  afterEach(() => rmSync(local, { recursive: true, force: true }));
  afterAll(() => killRunningBoardings());

  const childEnv = (extra: Record<string, string>): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    BOARDING_LOCAL_DIR: local,
    // Tripwire: were the check ever skipped, step 1 (`stack up`) fails at once on this invalid
    // port instead of starting servers in the test's directory.
    BOARDING_PG_PORT: '1',
    ...extra,
  });

  it('exits non-zero before any step when DATABASE_URL points elsewhere, naming it without its password', async () => {
    const { code, stdout, stderr } = await spawnBoarding(
      ['demo', '--taps', '100'],
      childEnv({ DATABASE_URL: PRODUCTION_DATABASE }),
    ).done;

    expect(code).not.toBe(0);
    expect(stderr).toContain(
      'demo refuses to run: DATABASE_URL points at db.example.invalid:5432, not the local stack (127.0.0.1:15432)',
    );
    expect(stderr).toContain('--allow-target DATABASE_URL');
    expect(stderr).not.toContain('secret');
    expect(stderr).not.toContain('stackpw');
    expect(stderr).not.toContain('step 1/');
    expect(stdout).toBe('');
    // Nothing was started or written: no stack directories, no demo sandbox.
    expect(readdirSync(local)).toEqual(['stack.env']);
  });

  it('documents the escape hatch in --help', async () => {
    const { code, stdout } = await spawnBoarding(['demo', '--help'], childEnv({})).done;
    expect(code).toBe(0);
    expect(stdout).toContain('--allow-target <VAR>');
    expect(stdout.replace(/\s+/g, ' ')).toContain(
      'VAR: DATABASE_URL, REDIS_URL, KAFKA_BROKERS, SFTP_HOST, SFTP_REMOTE_DIR',
    );
  });
});

describe('boarding demo --allow-target', () => {
  let local: string;
  beforeEach(() => {
    local = mkdtempSync(join(tmpdir(), 'demo-targets-'));
    writeFileSync(join(local, 'stack.env'), STACK_ENV, { mode: 0o600 });
  });
  afterEach(() => rmSync(local, { recursive: true, force: true }));

  // The steps run through this stand-in: it records the first and stops the demo there.
  const stopAtFirstStep = () => {
    const steps: string[][] = [];
    const register = (program: Parameters<typeof registerDemo>[0]) =>
      registerDemo(program, {
        run: async (args) => {
          steps.push(args);
          throw new Error('stopped by the test');
        },
        startBackground: () => {
          throw new Error('no server is started before the first step');
        },
      });
    return { steps, register };
  };

  it('lets the named variable point at a test host: the demo goes on to its first step', async () => {
    const { steps, register } = stopAtFirstStep();
    await expect(
      runCommand(register, ['demo', '--allow-target', 'DATABASE_URL'], {
        BOARDING_LOCAL_DIR: local,
        DATABASE_URL: PRODUCTION_DATABASE,
      }),
    ).rejects.toThrow('stopped by the test');
    expect(steps).toEqual([['stack', 'up']]);
  });

  it('allows only the variable it names', async () => {
    const { steps, register } = stopAtFirstStep();
    await expect(
      runCommand(register, ['demo', '--allow-target', 'DATABASE_URL'], {
        BOARDING_LOCAL_DIR: local,
        DATABASE_URL: PRODUCTION_DATABASE,
        REDIS_URL: 'redis://:secret@redis.example.invalid:6379',
      }),
    ).rejects.toThrow(/REDIS_URL points at redis\.example\.invalid:6379/);
    expect(steps).toEqual([]);
  });

  it('refuses a name that is not a demo target', async () => {
    const { steps, register } = stopAtFirstStep();
    await expect(
      runCommand(register, ['demo', '--allow-target', 'PII_KEY_FILE'], { BOARDING_LOCAL_DIR: local }),
    ).rejects.toThrow(/one of DATABASE_URL, REDIS_URL, KAFKA_BROKERS, SFTP_HOST, SFTP_REMOTE_DIR/);
    expect(steps).toEqual([]);
  });
});
