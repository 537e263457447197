import { formatCheck, formatReport } from './doctor';

describe('doctor output', () => {
  it('prints one line per check, the fix after a failure only, then a summary', () => {
    expect(
      formatReport({
        ok: false,
        services: ['ingest'],
        checks: [
          { name: 'kafka', ok: true, detail: '127.0.0.1:19092 answers', fix: 'never shown' },
          { name: 'migrations', ok: false, detail: '9 of 10 applied', fix: 'run `boarding migrate`' },
          { name: 'redis', ok: false, detail: 'not checked: REDIS_URL missing' },
        ],
      }),
    ).toBe(
      [
        '✓ kafka: 127.0.0.1:19092 answers',
        '✗ migrations: 9 of 10 applied — run `boarding migrate`',
        '✗ redis: not checked: REDIS_URL missing',
        '2 of 3 checks failed (ingest)',
      ].join('\n'),
    );
    expect(formatCheck({ name: 'sftp', ok: true, detail: 'ok' })).toBe('✓ sftp: ok');
  });
});
