import type { Admin } from 'kafkajs';
import { istanbulDayStart, ReplayInputError, replayWindow } from './replay-range';

type Offsets = { partition: number; offset: string }[];

/**
 * The two admin calls the window needs, over a fixed log per partition: each message is its
 * Kafka timestamp, its offset is its index (Kafka answers the first offset whose timestamp is at
 * or after the one asked, or the high watermark when there is none).
 */
function adminOver(log: number[][]): { admin: Admin; asked: number[] } {
  const asked: number[] = [];
  const byTimestamp = async (_topic: string, ts?: number): Promise<Offsets> => {
    asked.push(ts ?? Number.NaN);
    return log.map((stamps, partition) => {
      const i = stamps.findIndex((s) => s >= (ts ?? 0));
      return { partition, offset: String(i === -1 ? stamps.length : i) };
    });
  };
  const ends = async () =>
    log.map((stamps, partition) => ({
      partition,
      offset: String(stamps.length),
      high: String(stamps.length),
      low: '0',
    }));
  const admin = { fetchTopicOffsetsByTimestamp: byTimestamp, fetchTopicOffsets: ends } as unknown as Admin;
  return { admin, asked };
}

const at = (iso: string) => Date.parse(iso);

describe('istanbulDayStart', () => {
  it('is 21:00 UTC of the day before', () => {
    expect(new Date(istanbulDayStart('2020-11-20')).toISOString()).toBe('2020-11-19T21:00:00.000Z');
  });

  it('refuses what is not a calendar date', () => {
    expect(() => istanbulDayStart('2020-02-30')).toThrow(ReplayInputError);
    expect(() => istanbulDayStart('20-11-2020')).toThrow(/YYYY-MM-DD/);
  });
});

describe('replayWindow', () => {
  const log = [
    [
      at('2020-11-19T23:49:59.999+03:00'), // 0: before the window (10 minutes' drift allowance)
      at('2020-11-19T23:50:00.000+03:00'), // 1: first of the window
      at('2020-11-20T12:00:00+03:00'),
      at('2020-11-27T23:59:59.999+03:00'), // 3: last moment a tap of the 20th can be uploaded
      at('2020-11-28T00:00:00.000+03:00'), // 4: end (exclusive)
    ],
    [at('2020-11-25T10:00:00+03:00')], // one message, inside
    [], // empty partition
  ];

  it('reads from D 00:00 less 10 minutes to D+1 00:00 plus MAX_TAP_AGE_DAYS, per partition', async () => {
    const { admin, asked } = adminOver(log);
    const window = await replayWindow(admin, 'taps', '2020-11-20', {
      maxTapAgeDays: 7,
      now: at('2021-01-01T00:00:00Z'),
    });
    expect(asked.map((t) => new Date(t).toISOString()).sort()).toEqual([
      '2020-11-19T20:50:00.000Z',
      '2020-11-27T21:00:00.000Z',
    ]);
    expect(window).toEqual({
      fromMs: at('2020-11-19T23:50:00+03:00'),
      toMs: at('2020-11-28T00:00:00+03:00'),
      partitions: [
        { partition: 0, from: 1, to: 4 },
        { partition: 1, from: 0, to: 1 },
        { partition: 2, from: 0, to: 0 },
      ],
    });
  });

  it('reads to the end of each partition as it is now when the window is not over yet', async () => {
    const { admin } = adminOver(log);
    const window = await replayWindow(admin, 'taps', '2020-11-20', {
      maxTapAgeDays: 7,
      now: at('2020-11-25T00:00:00+03:00'),
    });
    expect(window.toMs).toBeNull();
    expect(window.partitions).toEqual([
      { partition: 0, from: 1, to: 5 },
      { partition: 1, from: 0, to: 1 },
      { partition: 2, from: 0, to: 0 },
    ]);
  });

  it('takes the age limit from MAX_TAP_AGE_DAYS', async () => {
    const { admin } = adminOver(log);
    const window = await replayWindow(admin, 'taps', '2020-11-20', {
      maxTapAgeDays: 1,
      now: at('2021-01-01T00:00:00Z'),
    });
    expect(window.toMs).toBe(at('2020-11-22T00:00:00+03:00'));
    expect(window.partitions[0]).toEqual({ partition: 0, from: 1, to: 3 });
    expect(window.partitions[1]).toEqual({ partition: 1, from: 0, to: 0 });
  });
});
