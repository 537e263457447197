import { Writable } from 'node:stream';
import { createLogger } from './logger';

describe('log redaction', () => {
  it('never writes a password, URL with credentials or TC/HES field in clear', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const log = createLogger('test', { destination: sink });
    log.info(
      {
        password: 'pw-123',
        DATABASE_URL: 'postgres://u:pw-456@h/db',
        nested: { tcKimlikNo: '17291716060' },
        hes_code: 'ABCD1234X9',
      },
      'hello',
    );
    const out = lines.join('');
    for (const secret of ['pw-123', 'pw-456', '17291716060', 'ABCD1234X9']) expect(out).not.toContain(secret);
    expect(out).toContain('[redacted]');
  });
});
