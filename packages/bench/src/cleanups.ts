type Entry = { label: string; run: () => Promise<void> };

/**
 * Undo actions for what a run created on the stack (topics, consumer groups, tables, files).
 * Each runs at most once: either where the bench finishes with it, or, when the run is
 * interrupted, from `runAll`. A cleanup already in flight is awaited, not started twice.
 */
export class Cleanups {
  private readonly entries = new Set<Entry>();

  add(label: string, undo: () => Promise<void>): () => Promise<void> {
    let started: Promise<void> | undefined;
    const entry: Entry = {
      label,
      run: () => {
        started ??= undo().finally(() => this.entries.delete(entry));
        return started;
      },
    };
    this.entries.add(entry);
    return entry.run;
  }

  get pending(): string[] {
    return [...this.entries].map((e) => e.label);
  }

  /**
   * Runs every registered undo, newest first (a topic's consumer group goes before the topic),
   * and gives up after `deadlineMs` so a hung server cannot keep an interrupted process alive.
   * Returns the labels that failed or did not finish in time.
   */
  async runAll(deadlineMs: number): Promise<string[]> {
    const left: string[] = [];
    const work = (async () => {
      for (const entry of [...this.entries].reverse()) {
        await entry.run().catch(() => left.push(entry.label));
      }
    })();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), deadlineMs);
    });
    const outcome = await Promise.race([work.then(() => 'done' as const), timeout]);
    clearTimeout(timer);
    return outcome === 'timeout' ? [...new Set([...left, ...this.pending])] : left;
  }
}

/**
 * A bench's own undo list, run at its end newest first (the API before the stand-in, both before
 * the database they use); one that fails is reported, the rest still run.
 */
export async function runUndos(
  undo: (() => Promise<void>)[],
  progress: (message: string) => void,
): Promise<void> {
  const left: string[] = [];
  for (let next = undo.pop(); next !== undefined; next = undo.pop()) {
    try {
      await next();
    } catch (err) {
      left.push(err instanceof Error ? err.message : String(err));
    }
  }
  if (left.length > 0) progress(`not cleaned up: ${left.join('; ')}`);
}
