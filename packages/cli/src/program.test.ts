import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ConfigError } from '@boarding/config/env';
import { buildProgram, jsonRequested, reportFailure } from './program';

/** reportFailure's exit status and what it wrote, stdout and stderr apart. */
function report(err: unknown, json: boolean, env: Record<string, string | undefined> = {}) {
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((c) => {
    stdout += String(c);
    return true;
  });
  const errw = jest.spyOn(process.stderr, 'write').mockImplementation((c) => {
    stderr += String(c);
    return true;
  });
  const saved = process.env.LOG_LEVEL;
  if ('LOG_LEVEL' in env) process.env.LOG_LEVEL = env.LOG_LEVEL;
  try {
    return { code: reportFailure(err, { json }), stdout, stderr };
  } finally {
    if (saved === undefined) delete process.env.LOG_LEVEL;
    else process.env.LOG_LEVEL = saved;
    out.mockRestore();
    errw.mockRestore();
  }
}

describe('reportFailure', () => {
  const config = new ConfigError(['DATABASE_URL is not set (required)', 'SFTP_PORT: too big']);

  it('with --json prints exactly one JSON line on stdout and nothing else there', () => {
    const r = report(config, true, { LOG_LEVEL: 'info' });
    expect(r.code).toBe(3);
    expect(r.stdout).toBe(
      '{"error":{"code":"CONFIG_INVALID","message":"invalid configuration: DATABASE_URL is not set (required); SFTP_PORT: too big"}}\n',
    );
    expect(r.stderr).toBe('');
  });

  it('for people prints one line on stderr, the stack only with LOG_LEVEL=debug', () => {
    const r = report(config, false, { LOG_LEVEL: 'info' });
    expect(r).toEqual({
      code: 3,
      stdout: '',
      stderr:
        'boarding: invalid configuration: DATABASE_URL is not set (required); SFTP_PORT: too big [CONFIG_INVALID]\n',
    });
    const debug = report(config, false, { LOG_LEVEL: 'debug' });
    expect(debug.stderr).toMatch(
      /^boarding: invalid configuration: .*\nConfigError: invalid configuration:\n[\s\S]*\n\s+at /,
    );
  });

  it('knows --json from the words typed (commander may fail before parsing them)', () => {
    expect(jsonRequested(['export', 'run', '--dya', 'x', '--json'])).toBe(true);
    expect(jsonRequested(['export', 'run', '--day', '2020-11-20'])).toBe(false);
    expect(jsonRequested(['serve', 'ingest', '--', '--json'])).toBe(false);
  });
});

describe('buildProgram', () => {
  const ALL = [
    'stack',
    'doctor',
    'migrate',
    'registry',
    'apikey',
    'ingest',
    'serve',
    'simulate',
    'deadletters',
    'export',
    'replay',
    'retention',
    'day',
    'days',
    'status',
    'demo',
  ];
  const names = (args?: string[]) => buildProgram(args).commands.map((c) => c.name());

  it('registers only the command typed, and every command for help, a typo or nothing', () => {
    expect(names(['ingest', '--until-caught-up'])).toEqual(['ingest']);
    expect(names(['export', 'run', '--day', '2020-11-20'])).toEqual(['export']);
    expect(names()).toEqual(ALL);
    expect(names([])).toEqual(ALL);
    expect(names(['--help'])).toEqual(ALL);
    expect(names(['-V'])).toEqual(ALL);
    expect(names(['ingst'])).toEqual(ALL);
  });

  /** The npm packages a fresh process holds after `buildProgram(args)` (tsx as the CLI runs). */
  function packagesLoaded(args: string[]): string[] {
    // A package is named by what follows the last node_modules/ of a module's path (@scope/name or name).
    const script = `require(${JSON.stringify(join(__dirname, 'program.ts'))}).buildProgram(${JSON.stringify(args)});
      const paths = Object.keys(require.cache).filter((k) => k.includes('node_modules/'));
      const names = paths.map((k) => k.split('node_modules/').at(-1).split('/'));
      const named = names.map((p) => (p[0].startsWith('@') ? p[0] + '/' + p[1] : p[0]));
      process.stdout.write(JSON.stringify([...new Set(named)]));`;
    // Bounded: a hung child would block this process (a synchronous call), so jest's timeout could not fire.
    const out = execFileSync(process.execPath, ['--require', 'tsx/cjs', '-e', script], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    return JSON.parse(out) as string[];
  }

  it("loads the ingest's libraries for `boarding ingest`, not the export's, Redis' or the services'", () => {
    const ingest = packagesLoaded(['ingest', '--until-caught-up']);
    expect(ingest).toEqual(expect.arrayContaining(['kafkajs', 'pg', 'commander']));
    for (const other of ['ssh2', 'ssh2-sftp-client', 'ioredis', 'bullmq', 'pg-copy-streams', 'csv-parse']) {
      expect(ingest).not.toContain(other);
    }
    // Every command registered (`--help`) loads the SFTP client: what the ingest no longer holds.
    expect(packagesLoaded(['--help'])).toContain('ssh2');
  });
});
