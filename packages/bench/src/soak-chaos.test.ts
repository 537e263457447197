import { type ChaosAction, planAction, seededRandom } from './soak-chaos';
import { type FeedMessage, mergeByTimestamp } from './soak-feed';

const draw = (seed: number, n: number, servers: Parameters<typeof planAction>[1]): ChaosAction[] => {
  const rand = seededRandom(seed);
  return Array.from({ length: n }, () => planAction(rand, servers));
};

describe('the chaos schedule', () => {
  it('is the same for the same seed', () => {
    expect(draw(42, 50, ['kafka', 'postgres', 'redis'])).toEqual(
      draw(42, 50, ['kafka', 'postgres', 'redis']),
    );
    expect(draw(42, 50, ['kafka', 'postgres', 'redis'])).not.toEqual(
      draw(43, 50, ['kafka', 'postgres', 'redis']),
    );
  });

  it('restarts only the listed servers, SIGKILLs only Kafka and Redis, cuts uploads with what is listed', () => {
    const actions = draw(7, 2000, ['kafka', 'postgres', 'redis']);
    const kinds = new Set(actions.map((a) => a.kind));
    expect(kinds).toEqual(new Set(['restart', 'kill', 'cut-upload']));
    for (const a of actions) {
      if (a.kind === 'restart') {
        expect(['kafka', 'postgres', 'redis']).toContain(a.server);
        if (a.crash) expect(['kafka', 'redis']).toContain(a.server);
        expect(a.downMs).toBeGreaterThanOrEqual(1000);
        expect(a.downMs).toBeLessThanOrEqual(8000);
      }
      if (a.kind === 'cut-upload') expect(['postgres', 'kill']).toContain(a.cut);
    }
    expect(actions.some((a) => a.kind === 'restart' && a.crash)).toBe(true);
    const onlyRedis = draw(7, 500, ['redis']);
    expect(
      onlyRedis
        .filter((a) => a.kind === 'cut-upload')
        .every((a) => a.kind === 'cut-upload' && a.cut === 'kill'),
    ).toBe(true);
  });
});

describe('mergeByTimestamp', () => {
  const m = (partition: number, offset: number, ts: number): FeedMessage => ({
    partition,
    offset,
    key: null,
    value: null,
    timestamp: String(ts),
    headers: undefined,
  });

  it('interleaves partitions by timestamp and never reorders a partition', () => {
    // Partition 1 is out of timestamp order: its own order must be kept anyway.
    const merged = mergeByTimestamp([
      [m(0, 0, 10), m(0, 1, 30)],
      [m(1, 0, 20), m(1, 1, 5), m(1, 2, 40)],
    ]);
    expect(merged.map((x) => `${x.partition}:${x.offset}`)).toEqual(['0:0', '1:0', '1:1', '0:1', '1:2']);
  });
});
