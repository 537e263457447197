import type { Cleanups } from './cleanups';

/**
 * The benchmark plug-in API. A bench measures something and records figures; the harness runs
 * benches one after another (so they never compete for the two cores), then prints every figure.
 *
 * A figure may carry a `bound`: the machine's own limit for the same work, measured in the same
 * run (`ctx.limits`), so that "ingest does 41,000 taps/s" reads as "ingest reaches 0.62 of what
 * raw Kafka can do here" and survives a move to a faster or slower machine.
 */

/** Which way a figure improves: rates go up, times and sizes go down. */
export type Better = 'higher' | 'lower';

export type FigureInput = {
  /** kebab-case, unique within the bench: `kafka-produce`, `p99-latency`. */
  figure: string;
  value: number;
  unit: string;
  /** The same-run machine limit for this figure, in the same unit. */
  bound?: number;
  /** Needed only with a bound and a unit `betterOf` does not know. */
  better?: Better;
};

export type Figure = {
  bench: string;
  figure: string;
  value: number;
  unit: string;
  bound?: number;
  /** How close to the bound, 1 = at the machine's limit; see `computeRatio`. */
  ratio?: number;
};

export type BenchOptions = {
  /** `--taps N`: the size of the work (taps, messages, rows); undefined = each bench's default. */
  taps: number | undefined;
};

/** A throughput measured on this machine in this run. */
export type Rate = {
  value: number;
  /** `msgs/s`, `rows/s`, `MB/s` (MB = 10^6 bytes). */
  unit: string;
  /** How much work was timed (messages, rows, bytes). */
  amount: number;
  seconds: number;
};

/**
 * The machine's own limits, measured on first request and memoised by size for the rest of the
 * run: a bench asking for `kafkaProduce(n)` after the `limits` bench measured the same `n` gets
 * that very figure, so the bound and the figure it bounds come from the same run.
 */
export type MachineLimits = {
  /** kafkajs producing `messages` tap-sized messages to a fresh 12-partition topic, acks=all. */
  kafkaProduce(messages: number): Promise<Rate>;
  /** A consumer group reading those messages back with `eachBatch`, counting only. */
  kafkaConsume(messages: number): Promise<Rate>;
  /** `COPY … FROM STDIN` of `rows` tap rows into an unlogged table without indexes. */
  pgCopy(rows: number): Promise<Rate>;
  /** SFTP `fastPut` of a file of `bytes` random bytes to the remote directory. */
  sftpUpload(bytes: number): Promise<Rate>;
};

export type BenchContext = {
  readonly options: BenchOptions;
  readonly limits: MachineLimits;
  /** Records a figure of the running bench and returns it as it will be printed (ratio computed). */
  record(input: FigureInput): Figure;
  /** A line on stderr; stdout is reserved for the result. */
  progress(message: string): void;
  /**
   * Registers the undo of something the bench created (topic, table, file) and returns the
   * function that runs it once. Call it in `finally`; on SIGINT/SIGTERM the harness runs what
   * is still registered, so an interrupted run leaves nothing behind either.
   */
  cleanup(label: string, undo: () => Promise<void>): () => Promise<void>;
};

export type Bench = {
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<void>;
};

const RATE_UNIT = /\/(s|min|h)$/;
const LOWER_IS_BETTER = new Set([
  'ns',
  'µs',
  'us',
  'ms',
  's',
  'min',
  'B',
  'KiB',
  'MiB',
  'GiB',
  'kB',
  'MB',
  'GB',
]);

/** The direction of a unit the harness knows: any `…/s` rate is higher-better, times and sizes lower. */
export function betterOf(unit: string): Better | undefined {
  if (RATE_UNIT.test(unit)) return 'higher';
  if (LOWER_IS_BETTER.has(unit)) return 'lower';
  return undefined;
}

/**
 * The ratio always reads "fraction of the machine's limit reached", whatever the unit:
 * value/bound for rates (higher is better), bound/value for times and sizes (lower is better).
 * So 0.62 means 62 % of what the machine allows in both cases, and above 1 means the figure beat
 * its bound (noise, or a bound that measures something else).
 */
export function computeRatio(value: number, bound: number, better: Better): number {
  const ratio = better === 'higher' ? value / bound : bound / value;
  if (!Number.isFinite(ratio) || ratio < 0) {
    throw new RangeError(`cannot compute a ratio of value ${value} to bound ${bound} (${better} is better)`);
  }
  return ratio;
}

export function makeFigure(bench: string, input: FigureInput): Figure {
  if (!Number.isFinite(input.value))
    throw new RangeError(`${bench}/${input.figure}: value ${input.value} is not finite`);
  const figure: Figure = { bench, figure: input.figure, value: input.value, unit: input.unit };
  if (input.bound === undefined) return figure;
  if (!(input.bound > 0 && Number.isFinite(input.bound))) {
    throw new RangeError(`${bench}/${input.figure}: bound ${input.bound} must be a positive number`);
  }
  const better = input.better ?? betterOf(input.unit);
  if (better === undefined) {
    throw new RangeError(
      `${bench}/${input.figure}: unit "${input.unit}" has no known direction; pass better: 'higher' | 'lower'`,
    );
  }
  return { ...figure, bound: input.bound, ratio: computeRatio(input.value, input.bound, better) };
}

export type RunResult = {
  figures: Figure[];
  /** The bench that threw, and why; the benches after it were not run. */
  failure?: { bench: string; error: unknown };
};

/**
 * Runs the benches in order. The first failure stops the run (it usually means a server of the
 * stack is down, and every later bench would fail the same way); figures recorded until then
 * are kept so the caller can still print them.
 */
export async function runBenches(
  benches: readonly Bench[],
  deps: {
    options: BenchOptions;
    limits: MachineLimits;
    cleanups: Cleanups;
    progress: (bench: string, message: string) => void;
  },
): Promise<RunResult> {
  const figures: Figure[] = [];
  for (const bench of benches) {
    const ctx: BenchContext = {
      options: deps.options,
      limits: deps.limits,
      record: (input) => {
        const figure = makeFigure(bench.name, input);
        figures.push(figure);
        return figure;
      },
      progress: (message) => deps.progress(bench.name, message),
      cleanup: (label, undo) => deps.cleanups.add(label, undo),
    };
    try {
      await bench.run(ctx);
    } catch (error) {
      return { figures, failure: { bench: bench.name, error } };
    }
  }
  return { figures };
}

/** Wraps a measurement so each size is measured at most once per run, concurrent callers included. */
export function memoiseBySize<T>(measure: (size: number) => Promise<T>): (size: number) => Promise<T> {
  const cache = new Map<number, Promise<T>>();
  return (size) => {
    const cached = cache.get(size);
    if (cached) return cached;
    const pending = measure(size);
    cache.set(size, pending);
    // A failed measurement is not a figure: forget it so a later caller measures again.
    pending.catch(() => cache.delete(size));
    return pending;
  };
}
