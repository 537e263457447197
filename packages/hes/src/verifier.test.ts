import { HesCodeMismatchError, HesServiceUnavailableError } from './verifier';

describe('HES verification errors', () => {
  it('carry a stable code and whether a retry may help, and mask the TC and HES', () => {
    const mismatch = new HesCodeMismatchError({ tcKimlikNo: '17291716060', hesCode: 'ABCD1234X9' });
    expect(mismatch).toMatchObject({
      code: 'HES_CODE_MISMATCH',
      retryable: false,
      name: 'HesCodeMismatchError',
    });
    expect(mismatch.message).toContain('*******6060');
    expect(mismatch.message).toContain('****-****-X9');
    expect(mismatch.message).not.toContain('17291716060');
    expect(mismatch.message).not.toContain('ABCD1234X9');

    const down = new HesServiceUnavailableError('TIMEOUT', 'no answer within 3000 ms');
    expect(down).toMatchObject({ code: 'HES_SERVICE_UNAVAILABLE', retryable: true, reason: 'TIMEOUT' });
  });
});
