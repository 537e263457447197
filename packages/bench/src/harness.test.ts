import { selectBenches, UnknownBenchError } from './benches';
import { Cleanups } from './cleanups';
import {
  type Bench,
  betterOf,
  computeRatio,
  type MachineLimits,
  makeFigure,
  memoiseBySize,
  runBenches,
} from './harness';
import { limitSizes } from './limits';
import { formatJsonLine, renderTable, roundRatio, roundValue } from './output';

const noLimits: MachineLimits = {
  kafkaProduce: () => Promise.reject(new Error('no stack in unit tests')),
  kafkaConsume: () => Promise.reject(new Error('no stack in unit tests')),
  pgCopy: () => Promise.reject(new Error('no stack in unit tests')),
  sftpUpload: () => Promise.reject(new Error('no stack in unit tests')),
};

const bench = (name: string, run: Bench['run'] = async () => undefined): Bench => ({
  name,
  description: `${name} bench`,
  run,
});

describe('ratio', () => {
  it('is value/bound for a rate: 41,000 taps/s against a 66,000 msgs/s bound reads 0.621', () => {
    expect(roundRatio(computeRatio(41_000, 66_000, 'higher'))).toBe(0.621);
  });

  it('is bound/value for a time, so that it also reads "fraction of the limit reached"', () => {
    // The machine can do it in 2 s; we take 8 s: a quarter of the limit, not 4.
    expect(computeRatio(8, 2, 'lower')).toBe(0.25);
  });

  it('takes the direction from the unit: rates higher, times and sizes lower, others unknown', () => {
    expect(betterOf('msgs/s')).toBe('higher');
    expect(betterOf('MB/s')).toBe('higher');
    expect(betterOf('ms')).toBe('lower');
    expect(betterOf('MiB')).toBe('lower');
    expect(betterOf('taps')).toBeUndefined();
  });

  it('is computed when a figure has a bound, and absent without one', () => {
    expect(makeFigure('ingest', { figure: 'throughput', value: 500, unit: 'taps/s', bound: 2000 })).toEqual({
      bench: 'ingest',
      figure: 'throughput',
      value: 500,
      unit: 'taps/s',
      bound: 2000,
      ratio: 0.25,
    });
    expect(makeFigure('limits', { figure: 'pg-copy', value: 300_000, unit: 'rows/s' })).toEqual({
      bench: 'limits',
      figure: 'pg-copy',
      value: 300_000,
      unit: 'rows/s',
    });
  });

  it('refuses a bound on a unit of unknown direction unless the caller says which way is better', () => {
    expect(() => makeFigure('x', { figure: 'f', value: 1, unit: 'taps', bound: 2 })).toThrow(
      /no known direction/,
    );
    expect(makeFigure('x', { figure: 'f', value: 1, unit: 'taps', bound: 2, better: 'higher' }).ratio).toBe(
      0.5,
    );
  });

  it('refuses a bound that is zero or negative, and a time of zero', () => {
    expect(() => makeFigure('x', { figure: 'f', value: 1, unit: 'ms', bound: 0 })).toThrow(RangeError);
    expect(() => makeFigure('x', { figure: 'f', value: 0, unit: 'ms', bound: 5 })).toThrow(RangeError);
  });
});

describe('JSON line', () => {
  it('prints the SPEC §6 shape, fields in order, spaced, rates to one decimal and ratios to 3 digits', () => {
    const figure = makeFigure('ingest', {
      figure: 'throughput',
      value: 12_345.678,
      unit: 'taps/s',
      bound: 45_678.91,
    });
    expect(formatJsonLine(figure)).toBe(
      '{"bench": "ingest", "figure": "throughput", "value": 12345.7, "unit": "taps/s", "bound": 45678.9, "ratio": 0.27}',
    );
  });

  it('omits bound and ratio when the figure has no bound', () => {
    const line = formatJsonLine(makeFigure('limits', { figure: 'sftp-upload', value: 103.44, unit: 'MB/s' }));
    expect(line).toBe('{"bench": "limits", "figure": "sftp-upload", "value": 103.4, "unit": "MB/s"}');
    expect(JSON.parse(line)).toEqual({ bench: 'limits', figure: 'sftp-upload', value: 103.4, unit: 'MB/s' });
  });

  it('keeps three significant digits of a value below 1 instead of printing 0', () => {
    expect(roundValue(0.0123456)).toBe(0.0123);
    expect(roundValue(0)).toBe(0);
    expect(roundValue(2.26)).toBe(2.3);
  });
});

describe('table', () => {
  it('has one row per figure, with grouped values and a dash where there is no bound', () => {
    const figures = [
      makeFigure('limits', { figure: 'kafka-produce', value: 66_123.45, unit: 'msgs/s' }),
      makeFigure('limits', { figure: 'pg-copy', value: 305_900.71, unit: 'rows/s' }),
      makeFigure('ingest', { figure: 'throughput', value: 41_000, unit: 'taps/s', bound: 66_123.45 }),
    ];
    const lines = renderTable(figures).split('\n');
    expect(lines[1]).toMatch(/bench\s*│\s*figure\s*│\s*value\s*│\s*unit\s*│\s*bound\s*│\s*ratio/);
    const row = (figure: string) => lines.find((l) => l.includes(` ${figure} `)) ?? '';
    expect(row('kafka-produce')).toMatch(
      /limits\s*│\s*kafka-produce\s*│\s*66,123\.5\s*│\s*msgs\/s\s*│\s*-\s*│\s*-/,
    );
    expect(row('pg-copy')).toMatch(/305,900\.7\s*│\s*rows\/s/);
    expect(row('throughput')).toMatch(
      /ingest\s*│\s*throughput\s*│\s*41,000\.0\s*│\s*taps\/s\s*│\s*66,123\.5\s*│\s*0\.62/,
    );
  });
});

describe('bench selection', () => {
  const registry = [bench('limits'), bench('ingest'), bench('export')];

  it('runs every bench when no name is given', () => {
    expect(selectBenches([], registry).map((b) => b.name)).toEqual(['limits', 'ingest', 'export']);
  });

  it('runs the named benches in the order given, each once', () => {
    expect(selectBenches(['export', 'limits', 'export'], registry).map((b) => b.name)).toEqual([
      'export',
      'limits',
    ]);
  });

  it('rejects an unknown name with the list of the known ones', () => {
    expect(() => selectBenches(['limits', 'ingset'], registry)).toThrow(
      new UnknownBenchError(['ingset'], ['limits', 'ingest', 'export']),
    );
    expect(() => selectBenches(['ingset'], registry)).toThrow(
      'unknown bench ingset; known: limits, ingest, export',
    );
  });

  it('knows the limits bench', () => {
    expect(selectBenches(['limits']).map((b) => b.name)).toEqual(['limits']);
  });
});

describe('running benches', () => {
  it('tags each recorded figure with its bench and keeps the figures of benches that ran before a failure', async () => {
    const benches = [
      bench('first', async (ctx) => {
        ctx.record({ figure: 'a', value: 1, unit: 'msgs/s' });
      }),
      bench('second', async () => {
        throw new Error('broker down');
      }),
      bench('third', async (ctx) => {
        ctx.record({ figure: 'c', value: 3, unit: 'msgs/s' });
      }),
    ];
    const result = await runBenches(benches, {
      options: { taps: undefined },
      limits: noLimits,
      cleanups: new Cleanups(),
      progress: () => undefined,
    });
    expect(result.figures).toEqual([{ bench: 'first', figure: 'a', value: 1, unit: 'msgs/s' }]);
    expect(result.failure?.bench).toBe('second');
  });

  it('measures a limit once per size, even for concurrent callers, and again after a failure', async () => {
    const sizes: number[] = [];
    let fail = true;
    const measure = memoiseBySize(async (n: number) => {
      sizes.push(n);
      if (n === 3 && fail) {
        fail = false;
        throw new Error('flaky');
      }
      return n * 10;
    });
    expect(await Promise.all([measure(1), measure(1), measure(2)])).toEqual([10, 10, 20]);
    await expect(measure(3)).rejects.toThrow('flaky');
    expect(await measure(3)).toBe(30);
    expect(sizes).toEqual([1, 2, 3, 3]);
  });

  it('scales every limit size with --taps, the full run by default', () => {
    expect(limitSizes()).toEqual({ messages: 200_000, rows: 1_000_000, bytes: 200_000_000 });
    expect(limitSizes(20_000)).toEqual({ messages: 20_000, rows: 100_000, bytes: 20_000_000 });
  });
});

describe('cleanups', () => {
  it('runs each undo once, whether the bench or an interrupt gets there first, newest first', async () => {
    const cleanups = new Cleanups();
    const ran: string[] = [];
    const dropTopic = cleanups.add('topic', async () => {
      ran.push('topic');
    });
    cleanups.add('group', async () => {
      ran.push('group');
    });
    cleanups.add('broken', async () => {
      throw new Error('gone');
    });
    await dropTopic();
    expect(await cleanups.runAll(1000)).toEqual(['broken']);
    await dropTopic();
    expect(ran).toEqual(['topic', 'group']);
    expect(cleanups.pending).toEqual([]);
  });
});
