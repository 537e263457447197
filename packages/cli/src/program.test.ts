import { ConfigError } from '@boarding/config/env';
import { jsonRequested, reportFailure } from './program';

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
