import { createWriteStream, type WriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';

export type Reject = { line: number; reason: string; detail: string };

/**
 * Rejected lines of an import: counted by reason, the first ones kept for display, every one
 * written to the rejects file when there is one. Details are masked by construction (contracts
 * never echo a value), so the file and the output carry no TC or HES in clear.
 */
export class RejectLog {
  readonly byReason: Record<string, number> = {};
  readonly sample: Reject[] = [];
  total = 0;
  readonly #file: WriteStream | undefined;

  constructor(
    readonly path: string | undefined,
    readonly keep = 1000,
  ) {
    this.#file = path ? createWriteStream(path, { mode: 0o600 }) : undefined;
    this.#file?.write('line,reason,detail\n');
  }

  add(reject: Reject): void {
    this.total++;
    this.byReason[reject.reason] = (this.byReason[reject.reason] ?? 0) + 1;
    if (this.sample.length < this.keep) this.sample.push(reject);
    this.#file?.write(`${reject.line},${reject.reason},"${reject.detail.replaceAll('"', '""')}"\n`);
  }

  /** Sample in line order (parse rejects and conflicts arrive in two passes). */
  sorted(): Reject[] {
    return [...this.sample].sort((a, b) => a.line - b.line);
  }

  async close(): Promise<void> {
    if (!this.#file) return;
    this.#file.end();
    await finished(this.#file);
  }
}

export const formatReject = (r: Reject) => `line ${r.line}: ${r.reason} (${r.detail})`;
