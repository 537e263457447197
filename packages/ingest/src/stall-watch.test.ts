import type { GroupLag } from './catch-up';
import { StallWatch } from './stall-watch';

const reading = (...parts: [number, number, number][]): GroupLag => ({
  total: parts.reduce((a, [, , lag]) => a + lag, 0),
  partitions: parts.map(([partition, committed, lag]) => ({
    partition,
    committed,
    lag,
    low: 0,
    high: committed + lag,
  })),
});

describe('StallWatch', () => {
  let now = 0;
  const clock = () => now;
  beforeEach(() => {
    now = 1_000_000;
  });

  it('names a partition with lag whose committed offset has not moved for the stall time', () => {
    const watch = new StallWatch(120_000, clock);
    expect(watch.observe(reading([0, 100, 50], [1, 10, 0]))).toEqual([]);
    now += 119_000;
    expect(watch.observe(reading([0, 100, 50], [1, 10, 0]))).toEqual([]);
    now += 1_000;
    expect(watch.observe(reading([0, 100, 50], [1, 10, 0]))).toEqual([
      { partition: 0, offset: 100, lag: 50, seconds: 120 },
    ]);
    expect(watch.describe()).toBe('ingest stalled: partition 0 at offset 100 (lag 50, no commit for 120 s)');
  });

  it('does not call a partition stalled while it moves or has nothing to read', () => {
    const watch = new StallWatch(60_000, clock);
    watch.observe(reading([0, 100, 50], [1, 10, 0]));
    now += 50_000;
    watch.observe(reading([0, 120, 30], [1, 10, 0]));
    now += 50_000;
    expect(watch.observe(reading([0, 120, 30], [1, 10, 0]))).toEqual([]);
    now += 20_000;
    expect(watch.observe(reading([0, 120, 30], [1, 10, 0]))).toEqual([
      { partition: 0, offset: 120, lag: 30, seconds: 70 },
    ]);
    expect(watch.describe()).toContain('partition 0 at offset 120');
  });

  it('counts a lag that cannot be read for the stall time as a stall of its own', () => {
    const watch = new StallWatch(60_000, clock);
    watch.observe(reading([0, 1, 1]));
    now += 30_000;
    watch.observe(undefined);
    expect(watch.unreadable).toBe(false);
    now += 31_000;
    watch.observe(undefined);
    expect(watch.unreadable).toBe(true);
    expect(watch.describe()).toMatch(/could not be read for 60 s/);
    watch.observe(reading([0, 2, 0]));
    expect(watch.unreadable).toBe(false);
    expect(watch.describe()).toBeUndefined();
  });

  it('treats a group that never committed (offset -1) with lag like any other stuck partition', () => {
    const watch = new StallWatch(10_000, clock);
    watch.observe(reading([3, -1, 57]));
    now += 10_000;
    expect(watch.observe(reading([3, -1, 57]))).toEqual([{ partition: 3, offset: -1, lag: 57, seconds: 10 }]);
  });
});
