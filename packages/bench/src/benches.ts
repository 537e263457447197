import { exportBench } from './export-bench';
import type { Bench } from './harness';
import { ingestBench } from './ingest-bench';
import { limitsBench } from './limits';
import { registryApiBench } from './registry-api-bench';
import { registryBench } from './registry-bench';
import { statusFeedBench } from './status-feed-bench';

/** Every bench by name, in the order a run without names executes them (limits first: the bounds). */
export const BENCHES: readonly Bench[] = [
  limitsBench,
  registryBench,
  ingestBench,
  exportBench,
  registryApiBench,
  statusFeedBench,
];

export class UnknownBenchError extends Error {
  readonly code = 'BENCH_UNKNOWN';
  readonly retryable = false;
  constructor(
    readonly unknown: string[],
    readonly known: string[],
  ) {
    super(`unknown bench${unknown.length > 1 ? 'es' : ''} ${unknown.join(', ')}; known: ${known.join(', ')}`);
    this.name = 'UnknownBenchError';
  }
}

/** The benches named, in the order given (duplicates once); no names means all of them. */
export function selectBenches(names: readonly string[], registry: readonly Bench[] = BENCHES): Bench[] {
  if (names.length === 0) return [...registry];
  const byName = new Map(registry.map((b) => [b.name, b]));
  const unknown = names.filter((n) => !byName.has(n));
  if (unknown.length > 0) throw new UnknownBenchError(unknown, [...byName.keys()]);
  return [...new Set(names)].flatMap((n) => byName.get(n) ?? []);
}
