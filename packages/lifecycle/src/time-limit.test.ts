import { within, withTimeout } from './time-limit';

describe('withTimeout', () => {
  it('gives the work its result when it settles in time', async () => {
    await expect(withTimeout(1000, Promise.resolve(7), () => new Error('late'))).resolves.toBe(7);
    await expect(
      withTimeout(1000, Promise.reject(new Error('own')), () => new Error('late')),
    ).rejects.toThrow('own');
  });

  it("fails with onTimeout's error when the work does not settle, and keeps its late rejection handled", async () => {
    let rejectLate: (err: Error) => void = () => undefined;
    const never = new Promise<never>((_, reject) => {
      rejectLate = reject;
    });
    await expect(withTimeout(20, never, () => new Error('no answer within 20 ms'))).rejects.toThrow(
      'no answer within 20 ms',
    );
    // Would be an unhandled rejection (jest fails the file) if the race had not subscribed to it.
    rejectLate(new Error('too late'));
    await new Promise((r) => setTimeout(r, 10));
  });
});

describe('within', () => {
  it('gives the work its result when it settles in time, its rejection too', async () => {
    await expect(within(1000, Promise.resolve(7))).resolves.toBe(7);
    await expect(within(1000, Promise.reject(new Error('own')))).rejects.toThrow('own');
  });

  it('gives undefined once the time has passed, and keeps the late rejection handled', async () => {
    let rejectLate: (err: Error) => void = () => undefined;
    const never = new Promise<number>((_, reject) => {
      rejectLate = reject;
    });
    await expect(within(20, never)).resolves.toBeUndefined();
    rejectLate(new Error('too late'));
    await new Promise((r) => setTimeout(r, 10));
  });

  it('waits for the work when the time is beyond a timer (infinite, or over 2^31 - 1 ms)', async () => {
    // Node fires a timer of more than 2^31 - 1 ms at once: that would be "late" at once.
    const soon = new Promise<string>((resolve) => setTimeout(() => resolve('done'), 30));
    await expect(within(Number.POSITIVE_INFINITY, soon)).resolves.toBe('done');
    const again = new Promise<string>((resolve) => setTimeout(() => resolve('done'), 30));
    await expect(within(2 ** 31, again)).resolves.toBe('done');
  });
});
