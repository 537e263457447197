import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DemoTargetError } from './demo-targets';
import { type DemoHooks, runDemo } from './run-demo';

const stackEnv = (pgPort: number) =>
  [
    `DATABASE_URL=postgres://boarding:stackpw@127.0.0.1:${pgPort}/boarding`,
    'REDIS_URL=redis://:stackpw@127.0.0.1:16379',
    'KAFKA_BROKERS=127.0.0.1:19092',
    'SFTP_HOST=127.0.0.1',
    'SFTP_PORT=12222',
    'SFTP_REMOTE_DIR=/incoming',
    '',
  ].join('\n');

// The variables the check reads, cleared for each test so the shell's own never leak in.
const VARIABLES = [
  'BOARDING_LOCAL_DIR',
  'DATABASE_URL',
  'REDIS_URL',
  'KAFKA_BROKERS',
  'SFTP_HOST',
  'SFTP_PORT',
  'SFTP_REMOTE_DIR',
];

describe('runDemo on a host whose environment points away from the local stack', () => {
  let local: string;
  const saved = Object.fromEntries(VARIABLES.map((k) => [k, process.env[k]]));
  beforeEach(() => {
    local = mkdtempSync(join(tmpdir(), 'run-demo-'));
    for (const k of VARIABLES) delete process.env[k];
    process.env.BOARDING_LOCAL_DIR = local;
  });
  afterEach(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(local, { recursive: true, force: true });
  });

  const hooks = (onStep: (args: string[]) => void = () => undefined) => {
    const steps: string[][] = [];
    const h: DemoHooks = {
      run: async (args) => {
        steps.push(args);
        onStep(args);
        return '';
      },
      startBackground: () => {
        throw new Error('no server is started before the sandbox');
      },
      progress: () => undefined,
      quietSteps: true,
    };
    return { steps, hooks: h };
  };

  it('refuses before its first step, so not even `stack up` runs', async () => {
    writeFileSync(join(local, 'stack.env'), stackEnv(15432));
    process.env.DATABASE_URL = 'postgres://u:secret@db.example.invalid:5432/x';
    const { steps, hooks: h } = hooks();
    const run = runDemo({ day: '2020-11-20', taps: 10, seed: 1 }, h);
    await expect(run).rejects.toBeInstanceOf(DemoTargetError);
    await expect(run).rejects.toThrow(/DATABASE_URL points at db\.example\.invalid:5432/);
    expect(steps).toEqual([]);
  });

  it('checks again, before the sandbox, against the stack.env that `stack up` wrote', async () => {
    // The environment names the stack as it was; `stack up` moves PostgreSQL to another port
    // (BOARDING_PG_PORT changed): DATABASE_URL is now another server, and the sandbox's
    // drop-and-create must not reach it.
    writeFileSync(join(local, 'stack.env'), stackEnv(15432));
    process.env.DATABASE_URL = 'postgres://u:secret@127.0.0.1:15432/boarding';
    const { steps, hooks: h } = hooks((args) => {
      if (args.join(' ') === 'stack up') writeFileSync(join(local, 'stack.env'), stackEnv(25432));
    });
    await expect(runDemo({ day: '2020-11-20', taps: 10, seed: 1 }, h)).rejects.toThrow(
      'demo refuses to run: DATABASE_URL points at 127.0.0.1:15432, not the local stack (127.0.0.1:25432)',
    );
    expect(steps).toEqual([['stack', 'up']]);
    expect(readdirSync(local)).toEqual(['stack.env']);
  });
});
