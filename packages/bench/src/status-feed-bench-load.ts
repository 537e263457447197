/**
 * The pure parts of the `status-feed` bench (status-feed-bench.ts): when each registry change is
 * due, which change a message on the topic answers, and the bound's messages.
 */

/**
 * When each of `rate` changes per second over `seconds` is due, in ms from the start: an open
 * schedule (change i at i / rate s), so a slow commit delays none of the changes after it and
 * the relay sees the rate the issue names, not the rate the bench's own round trips allow.
 */
export function changeSchedule(rate: number, seconds: number): number[] {
  if (!(rate > 0 && seconds > 0)) throw new RangeError(`a schedule needs a positive rate and duration`);
  const changes = Math.round(rate * seconds);
  return Array.from({ length: changes }, (_, i) => (i * 1000) / rate);
}

/** How many changes of `schedule` are due `elapsedMs` after the start. */
export function dueCount(schedule: readonly number[], elapsedMs: number): number {
  let low = 0;
  let high = schedule.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if ((schedule[mid] ?? Number.POSITIVE_INFINITY) <= elapsedMs) low = mid + 1;
    else high = mid;
  }
  return low;
}

type Change = { version: number; startedAt: number; committedAt?: number; seenAt?: number };

/**
 * Each change's commit (after its verb returned) and the first message on the topic carrying
 * that card's new version or a later one, on one monotonic clock. Either may be noted first: the
 * consumer can run its callback before the verb's promise continues.
 */
export class ChangeLedger {
  private readonly changes = new Map<string, Change>();

  /** A change of `cardNo` starts at `at` (its verb is called); it publishes version `version`. */
  expect(cardNo: string, version: number, at: number): void {
    if (this.changes.has(cardNo)) throw new Error(`card ${cardNo} is changed twice in one run`);
    this.changes.set(cardNo, { version, startedAt: at });
  }

  committed(cardNo: string, at: number): void {
    const change = this.changes.get(cardNo);
    if (change) change.committedAt = at;
  }

  /** A message on the topic; only the expected version (or newer) of an expected card counts. */
  seen(cardNo: string, version: number, at: number): void {
    const change = this.changes.get(cardNo);
    if (change && change.seenAt === undefined && version >= change.version) change.seenAt = at;
  }

  get expected(): number {
    return this.changes.size;
  }

  /** Changes committed so far. */
  get made(): number {
    return [...this.changes.values()].filter((c) => c.committedAt !== undefined).length;
  }

  /** Committed changes whose message has not arrived yet. */
  unseen(): string[] {
    return [...this.changes]
      .filter(([, c]) => c.committedAt !== undefined && c.seenAt === undefined)
      .map(([cardNo]) => cardNo);
  }

  /**
   * Milliseconds from the commit (the verb returned) to the message, of every change seen; or
   * from the verb's call, an upper bound that a busy event loop cannot shorten: the commit is
   * noted only when this process gets round to it, so a message can even be noted first (< 0).
   */
  latencies(from: 'commit' | 'call' = 'commit'): number[] {
    const out: number[] = [];
    for (const c of this.changes.values()) {
      if (c.committedAt === undefined || c.seenAt === undefined) continue;
      out.push(c.seenAt - (from === 'commit' ? c.committedAt : c.startedAt));
    }
    return out;
  }
}

export type StatusRow = { cardNo: string; status: string; since: Date; version: number };

/**
 * A bound message: the card's key and a value of SPEC §10's fields, so each message the raw
 * producer sends has the bytes of the one the snapshot sent for that card. Only the size
 * matters here; the feed's own encoder stays in status-feed.
 */
export function boundMessage(row: StatusRow): { key: string; value: string } {
  const { cardNo, status, since, version } = row;
  return {
    key: cardNo,
    value: JSON.stringify({ schema: 'card-status.v1', cardNo, status, since: since.toISOString(), version }),
  };
}

/** `items` cut into arrays of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += size) out.push(items.slice(start, start + size));
  return out;
}
