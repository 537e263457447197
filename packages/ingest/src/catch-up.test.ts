import { CatchUpTimeoutError, type GroupLag, waitForNoLag } from './catch-up';

const lagOf = (total: number): GroupLag => ({
  total,
  partitions: [{ partition: 0, lag: total, committed: 10, low: 0, high: 10 + total }],
});

describe('waitForNoLag', () => {
  it('resolves once a reading shows nothing behind, each reading after the first seen by onTick', async () => {
    const readings = [lagOf(5), lagOf(2), lagOf(0)];
    const seen: number[] = [];
    await waitForNoLag({
      lag: async () => readings.shift() ?? lagOf(0),
      intervalMs: 1,
      onTick: (lag) => seen.push(lag.total),
    });
    expect(seen).toEqual([2, 0]);
  });

  it('keeps its timeout when a reading never answers (a server that hangs without closing)', async () => {
    let readings = 0;
    const run = waitForNoLag({
      lag: () => {
        readings++;
        // The first reading answers; the next never does.
        return readings === 1 ? Promise.resolve(lagOf(3)) : new Promise<GroupLag>(() => undefined);
      },
      intervalMs: 5,
      timeoutMs: 100,
      describe: () => 'partition 0 waiting',
    });
    await expect(run).rejects.toBeInstanceOf(CatchUpTimeoutError);
    await expect(run).rejects.toThrow(
      /not caught up after 0 s: 3 messages behind at the last reading \(the lag cannot be read now\); partition 0 waiting/,
    );
  });

  it('keeps its timeout when not even the first reading answers', async () => {
    const run = waitForNoLag({
      lag: () => new Promise<GroupLag>(() => undefined),
      intervalMs: 5,
      timeoutMs: 50,
    });
    await expect(run).rejects.toThrow(/lag unknown \(broker unreachable\)/);
  });

  it('fails as soon as healthy() throws (a stall), whatever the lag', async () => {
    let calls = 0;
    await expect(
      waitForNoLag({
        lag: async () => lagOf(4),
        intervalMs: 1,
        healthy: () => {
          if (++calls === 3) throw new Error('ingest stalled: partition 0');
        },
      }),
    ).rejects.toThrow('ingest stalled: partition 0');
  });
});
