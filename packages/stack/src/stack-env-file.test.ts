import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnvFile } from '@boarding/config/stack-env';
import type { StackContext } from './server';
import { stackSettings } from './settings';
import { writeEnvFile } from './stack';

// Incident: `boarding stack up` run once with KAFKA_TAPS_TOPIC set in the shell wrote that topic
// into .local/stack.env, and every later command read another topic than the stack's.
describe('the settings file stack up writes', () => {
  let local: string;
  beforeEach(() => {
    local = mkdtempSync(join(tmpdir(), 'boarding-stack-env-'));
  });
  afterEach(() => rmSync(local, { recursive: true, force: true }));

  const contextFor = (shell: NodeJS.ProcessEnv, said: string[]): StackContext => ({
    settings: { ...stackSettings(shell), local, systemDir: join(local, 'system') },
    secrets: { pgPassword: 'p'.repeat(32), redisPassword: 'r'.repeat(32), kafkaClusterId: 'c'.repeat(22) },
    report: (server, message) => said.push(`${server}: ${message}`),
  });

  it('keeps the stack’s own taps topic when the shell names another, and says so', () => {
    const said: string[] = [];
    const path = writeEnvFile(contextFor({ KAFKA_TAPS_TOPIC: 'someone.elses.topic' }, said));
    expect(path).toBe(join(local, 'stack.env'));
    const written = parseEnvFile(readFileSync(path, 'utf8'));
    expect(written.KAFKA_TAPS_TOPIC).toBe('validator.taps.v1');
    expect(readFileSync(path, 'utf8')).not.toContain('someone.elses.topic');
    expect(said).toEqual([
      expect.stringMatching(
        /^settings: KAFKA_TAPS_TOPIC=someone\.elses\.topic from your shell was used for this run only; .*stack\.env keeps the stack's topic validator\.taps\.v1$/,
      ),
    ]);
  });

  it('writes the stack’s own ports, credentials and key file, and says nothing without an override', () => {
    const said: string[] = [];
    const written = parseEnvFile(readFileSync(writeEnvFile(contextFor({}, said)), 'utf8'));
    expect(written).toMatchObject({
      KAFKA_BROKERS: '127.0.0.1:19092',
      KAFKA_TAPS_TOPIC: 'validator.taps.v1',
      REDIS_URL: `redis://:${'r'.repeat(32)}@127.0.0.1:16379`,
      DATABASE_URL: expect.stringContaining(`:${'p'.repeat(32)}@127.0.0.1:15432/`),
      PII_KEY_FILE: expect.stringMatching(/pii\.json$/),
    });
    expect(said).toEqual([]);
  });

  it('runs on the shell’s stack ports (the stack’s own settings), which the file then names', () => {
    const written = parseEnvFile(
      readFileSync(writeEnvFile(contextFor({ BOARDING_KAFKA_PORT: '29092' }, [])), 'utf8'),
    );
    expect(written.KAFKA_BROKERS).toBe('127.0.0.1:29092');
  });
});
