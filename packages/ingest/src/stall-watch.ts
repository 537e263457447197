import type { GroupLag } from './catch-up';

export type StalledPartition = {
  partition: number;
  /** The committed offset the group is stuck at (the next message to read), -1 if none yet. */
  offset: number;
  lag: number;
  /** Seconds since the partition last moved (or since watching began). */
  seconds: number;
};

/**
 * SPEC §2 / issue: a stuck consumer shows itself. A partition is stalled when it has lag and its
 * committed offset has not moved for `stallMs`: judged from the group's committed offsets, so it
 * sees every ingest process of the group (and a group no process consumes for) alike. A broker
 * that cannot be asked for as long counts as a stall of its own.
 */
export class StallWatch {
  readonly #moved = new Map<number, { committed: number; at: number }>();
  #lastReadAt: number;
  #stalled: StalledPartition[] = [];
  #unreadable = false;

  constructor(
    private readonly stallMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.#lastReadAt = now();
  }

  /** Feed one lag reading (or `undefined` when it could not be read); returns what is stalled. */
  observe(lag: GroupLag | undefined): StalledPartition[] {
    const now = this.now();
    if (lag === undefined) {
      this.#unreadable = now - this.#lastReadAt >= this.stallMs;
      return this.#stalled;
    }
    this.#lastReadAt = now;
    this.#unreadable = false;
    const stalled: StalledPartition[] = [];
    for (const p of lag.partitions) {
      const seen = this.#moved.get(p.partition);
      // Moving, caught up, or seen for the first time: the clock starts (again) now.
      if (!seen || seen.committed !== p.committed || p.lag === 0) {
        this.#moved.set(p.partition, { committed: p.committed, at: now });
        continue;
      }
      if (now - seen.at >= this.stallMs) {
        stalled.push({
          partition: p.partition,
          offset: p.committed,
          lag: p.lag,
          seconds: Math.round((now - seen.at) / 1000),
        });
      }
    }
    this.#stalled = stalled;
    return stalled;
  }

  get stalled(): StalledPartition[] {
    return this.#stalled;
  }

  /** True when no lag reading succeeded for the stall time (broker or admin unreachable). */
  get unreadable(): boolean {
    return this.#unreadable;
  }

  describe(): string | undefined {
    if (this.#unreadable)
      return `the group's lag could not be read for ${Math.round(this.stallMs / 1000)} s (broker unreachable?)`;
    if (this.#stalled.length === 0) return undefined;
    return `ingest stalled: ${this.#stalled
      .map(
        (s) => `partition ${s.partition} at offset ${s.offset} (lag ${s.lag}, no commit for ${s.seconds} s)`,
      )
      .join(', ')}`;
  }
}
