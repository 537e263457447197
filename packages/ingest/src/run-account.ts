import { accountOffsets, countMatchedTaps, type OffsetRange } from '@boarding/db/bulk/offset-records';
import type { Pool } from 'pg';
import type { GroupLag } from './catch-up';
import { type AccountTotals, addAccount, sumAccounts } from './reconcile';

/**
 * The totals of one run of the ingest, read from the per-offset records between the group's
 * committed offsets when the run began and as they stand now, so they survive consumer restarts
 * and rebalances (kafkajs restarting the consumer resets nothing here) and count the work of the
 * whole group over the run. Kept incrementally: committed ranges never change, so each reading
 * only walks the offsets committed since the last one. That holds for the matched taps too,
 * when asked for (a run that ends with a summary): its summary then only counts the last
 * reading's taps, where counting all of them at the end cost ~1.8 s a million taps on one
 * backend after the work was done. A long-running service, which never reads them, does not
 * pay ~2 µs of database CPU a tap for them.
 */
export class RunAccount {
  readonly #start = new Map<number, number>();
  readonly #upTo = new Map<number, number>();
  #totals: AccountTotals = sumAccounts([]);
  #matched: number | null;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly pool: Pool,
    private readonly topic: string,
    options: { countMatched: boolean } = { countMatched: false },
  ) {
    this.#matched = options.countMatched ? 0 : null;
  }

  /** Mark where the run starts: the committed offset of each partition (its low end if none). */
  begin(lag: GroupLag): void {
    for (const p of lag.partitions) {
      const from = p.committed >= 0 ? p.committed : p.low;
      this.#start.set(p.partition, from);
      this.#upTo.set(p.partition, from);
    }
  }

  get started(): boolean {
    return this.#start.size > 0;
  }

  /** The run's committed ranges so far, per partition: [start, committed). */
  get ranges(): OffsetRange[] {
    return [...this.#start].map(([partition, from]) => ({
      partition,
      from,
      to: this.#upTo.get(partition) ?? from,
    }));
  }

  get totals(): AccountTotals {
    return this.#totals;
  }

  /**
   * Of the run's stored taps (as of the last reading), those matched to a card holder; null
   * unless counted (`countMatched`).
   */
  get matched(): number | null {
    return this.#matched;
  }

  /** Account for what was committed since the last call; one call at a time. */
  advance(lag: GroupLag): Promise<AccountTotals> {
    const next = this.#queue.then(async () => {
      const ranges: OffsetRange[] = [];
      for (const p of lag.partitions) {
        const from = this.#upTo.get(p.partition);
        if (from !== undefined && p.committed > from)
          ranges.push({ partition: p.partition, from, to: p.committed });
      }
      if (ranges.length === 0) return this.#totals;
      const accounts = await accountOffsets(this.pool, this.topic, ranges);
      const matched = this.#matched === null ? 0 : await countMatchedTaps(this.pool, this.topic, ranges);
      const totals = structuredClone(this.#totals);
      for (const a of accounts) addAccount(totals, a);
      this.#totals = totals;
      if (this.#matched !== null) this.#matched += matched;
      for (const r of ranges) this.#upTo.set(r.partition, r.to);
      return totals;
    });
    this.#queue = next.catch(() => undefined);
    return next;
  }
}
