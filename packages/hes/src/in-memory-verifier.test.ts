import { InMemoryHesVerifier } from './in-memory-verifier';
import { HesCodeMismatchError, HesServiceUnavailableError } from './verifier';

describe('InMemoryHesVerifier', () => {
  const records = [{ hesCode: 'ABCD1234X9', tcKimlikNo: '17291716060', status: 'RISKY' as const }];

  it('answers like the real service: status, or mismatch for another person or unknown code', async () => {
    const hes = new InMemoryHesVerifier(records);
    await expect(hes.verify({ tcKimlikNo: '17291716060', hesCode: 'abcd-1234-x9' })).resolves.toEqual({
      status: 'RISKY',
    });
    await expect(hes.verify({ tcKimlikNo: '10000000146', hesCode: 'ABCD1234X9' })).rejects.toBeInstanceOf(
      HesCodeMismatchError,
    );
    await expect(hes.verify({ tcKimlikNo: '17291716060', hesCode: 'ZZZZ9999ZZ' })).rejects.toBeInstanceOf(
      HesCodeMismatchError,
    );
    expect(hes.calls).toBe(3);
  });

  it('can be made unavailable, and honours an aborted signal', async () => {
    const hes = new InMemoryHesVerifier(records);
    hes.setAvailable(false);
    await expect(hes.verify({ tcKimlikNo: '17291716060', hesCode: 'ABCD1234X9' })).rejects.toBeInstanceOf(
      HesServiceUnavailableError,
    );
    hes.setAvailable(true);
    hes.add({ hesCode: 'EFGH5678Y1', tcKimlikNo: '10000000146', status: 'RISKLESS' });
    await expect(hes.verify({ tcKimlikNo: '10000000146', hesCode: 'EFGH5678Y1' })).resolves.toEqual({
      status: 'RISKLESS',
    });
    const aborted = AbortSignal.abort(new Error('gone'));
    await expect(
      hes.verify({ tcKimlikNo: '17291716060', hesCode: 'ABCD1234X9' }, { signal: aborted }),
    ).rejects.toThrow('gone');
  });
});

describe('InMemoryHesVerifier: statuses in a batch', () => {
  const records = [
    { hesCode: 'ABCD1234X9', tcKimlikNo: '17291716060', status: 'RISKLESS' as const },
    { hesCode: 'EFGH5678Y1', tcKimlikNo: '10000000146', status: 'RISKY' as const },
  ];

  it('answers each entry in order, a mismatch as an answer, in one request', async () => {
    const hes = new InMemoryHesVerifier(records);
    await expect(
      hes.statuses([
        { tcKimlikNo: '10000000146', hesCode: 'efgh-5678-y1' },
        { tcKimlikNo: '10000000146', hesCode: 'ABCD1234X9' },
        { tcKimlikNo: '17291716060', hesCode: 'ABCD1234X9' },
        { tcKimlikNo: '17291716060', hesCode: 'ZZZZ9999ZZ' },
      ]),
    ).resolves.toEqual([{ status: 'RISKY' }, { mismatch: true }, { status: 'RISKLESS' }, { mismatch: true }]);
    expect(hes.calls).toBe(1);
    await expect(hes.statuses([])).resolves.toEqual([]);
    expect(hes.calls).toBe(1);
  });

  it('changes a code’s status for later answers; an unknown code changes nothing', async () => {
    const hes = new InMemoryHesVerifier(records);
    expect(hes.setStatus('abcd-1234-x9', 'RISKY')).toBe(true);
    expect(hes.setStatus('ZZZZ9999ZZ', 'RISKY')).toBe(false);
    await expect(hes.statuses([{ tcKimlikNo: '17291716060', hesCode: 'ABCD1234X9' }])).resolves.toEqual([
      { status: 'RISKY' },
    ]);
    await expect(hes.verify({ tcKimlikNo: '17291716060', hesCode: 'ABCD1234X9' })).resolves.toEqual({
      status: 'RISKY',
    });
  });

  it('fails the whole batch when unavailable, and honours an aborted signal', async () => {
    const hes = new InMemoryHesVerifier(records);
    hes.setAvailable(false);
    await expect(hes.statuses([{ tcKimlikNo: '17291716060', hesCode: 'ABCD1234X9' }])).rejects.toBeInstanceOf(
      HesServiceUnavailableError,
    );
    hes.setAvailable(true);
    await expect(
      hes.statuses([{ tcKimlikNo: '17291716060', hesCode: 'ABCD1234X9' }], {
        signal: AbortSignal.abort(new Error('gone')),
      }),
    ).rejects.toThrow('gone');
  });
});
