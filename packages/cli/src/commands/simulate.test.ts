import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from './run-command.test-helpers';
import { registerSimulate, type SimulateResult } from './simulate';

// --dry-run needs no Kafka: these run the command as a user would, minus the producing.
const run = (args: string[]) => runCommand(registerSimulate, ['simulate', ...args]);

describe('boarding simulate --dry-run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'simulate-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the ground truth as one JSON object on stdout and writes the registry file', async () => {
    const file = join(dir, 'registry.csv');
    const { stdout, stderr } = await run([
      '--day=2020-11-20',
      '--taps=2000',
      '--seed=4',
      '--duplicates=0.02',
      '--out-of-order=0',
      `--registry-out=${file}`,
      '--dry-run',
      '--json',
    ]);
    const result = JSON.parse(stdout) as SimulateResult;
    expect(stdout.trim().split('\n')).toHaveLength(1);
    expect(result).toMatchObject({
      day: '2020-11-20',
      seed: 4,
      uniqueTaps: 2_000,
      duplicates: 40,
      outOfOrder: 0,
    });
    expect(result.faults).toMatchObject({ duplicates: 0.02, outOfOrder: 0, late: 0.02 });
    expect(result.produce).toBeNull();
    expect(result.registryOut?.rows).toBe(result.registryRows);
    expect(readFileSync(file, 'utf8').split('\n')).toHaveLength(result.registryRows + 2);
    expect(stderr).toContain('planning 2020-11-20');
  });

  it('prints a human summary with the expected counts', async () => {
    const { stdout } = await run(['--day', '2020-11-20', '--taps', '1000', '--dry-run']);
    expect(stdout).toContain('not produced (--dry-run)');
    expect(stdout).toMatch(/expected of the ingest:\n {2}stored [\d,]+ \(matched/);
    expect(stdout).toContain('SEQ_CONFLICT');
  });

  it('refuses a share outside 0..1 before doing any work', async () => {
    await expect(run(['--day', '2020-11-20', '--taps', '10', '--late', '2', '--dry-run'])).rejects.toThrow(
      /must be a share between 0 and 1/,
    );
  });
});
