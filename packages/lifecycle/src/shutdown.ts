import type { Logger } from '@boarding/logger/logger';
import { within } from './time-limit';

type Part = { name: string; stop: () => Promise<void> };

/**
 * The one shutdown registry of a process. Parts register in start order and are stopped in
 * reverse (stop intake → drain → commit → close connections), each once, on SIGTERM/SIGINT or
 * an explicit call, within a deadline after which the process exits anyway.
 */
export class ShutdownRegistry {
  readonly #parts: Part[] = [];
  #stopping: Promise<void> | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly deadlineMs = 30000,
  ) {}

  register(name: string, stop: () => Promise<void>): void {
    this.#parts.push({ name, stop });
  }

  /**
   * Handle SIGTERM and SIGINT: stop everything, then exit 0 (or 1 if a part failed). `exit` also
   * learns the signal, so a command that was interrupted before its work was done can say so.
   */
  listen(exit: (code: number, signal: NodeJS.Signals) => void = (code) => process.exit(code)): void {
    const onSignal = (signal: NodeJS.Signals) => {
      this.logger.info({ signal }, 'shutting down');
      this.stopWithin().then(
        (stopped) => {
          if (!stopped)
            this.logger.error({ deadlineMs: this.deadlineMs }, 'shutdown deadline passed, exiting');
          exit(stopped ? 0 : 1, signal);
        },
        () => exit(1, signal),
      );
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }

  /**
   * `stop()`, waited for at most `ms`: true when every part stopped in time (rejects as `stop()`
   * does when a part failed). False when a part is still waiting (a connection to a server that
   * stopped answering never closes): the caller should exit rather than wait for it, as `listen`
   * does.
   */
  async stopWithin(ms = this.deadlineMs): Promise<boolean> {
    const stopped = this.stop().then(() => true);
    return (await within(ms, stopped)) ?? false;
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      let failed = false;
      for (const part of [...this.#parts].reverse()) {
        try {
          await part.stop();
          this.logger.info({ part: part.name }, 'stopped');
        } catch (err) {
          failed = true;
          this.logger.error({ part: part.name, err: (err as Error).message }, 'failed to stop');
        }
      }
      if (failed) throw new Error('a part failed to stop');
    })();
    return this.#stopping;
  }
}
