import { withTimeout } from './time-limit';

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
