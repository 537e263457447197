import { type HesStatus, normaliseHesCode } from '@boarding/contracts/hes-code';
import type { HesRecord } from './records';
import {
  HesCodeMismatchError,
  HesServiceUnavailableError,
  type HesStatusAnswer,
  type HesVerifier,
  type HesVerifyInput,
  type HesVerifyResult,
} from './verifier';

/**
 * The in-memory twin of the HES service for unit tests of callers: the same answers and errors
 * as the HTTP client against the stand-in (a code unknown or of another person is a mismatch),
 * a switch to make it unavailable, and a way to change a code's status (a person who turns risky).
 */
export class InMemoryHesVerifier implements HesVerifier {
  private readonly byCode = new Map<string, HesRecord>();
  private available = true;
  /** How many requests were made (a verify, or a batch of statuses), answered or not. */
  calls = 0;

  constructor(records: readonly HesRecord[] = []) {
    for (const record of records) this.add(record);
  }

  add(record: HesRecord): void {
    const hes = normaliseHesCode(record.hesCode);
    const hesCode = hes.ok ? hes.value : record.hesCode;
    this.byCode.set(hesCode, { ...record, hesCode, tcKimlikNo: record.tcKimlikNo.trim() });
  }

  /** The Ministry changed this code's status; false when the code is unknown (nothing changed). */
  setStatus(hesCode: string, status: HesStatus): boolean {
    const hes = normaliseHesCode(hesCode);
    const record = hes.ok ? this.byCode.get(hes.value) : undefined;
    if (!record) return false;
    this.byCode.set(record.hesCode, { ...record, status });
    return true;
  }

  setAvailable(available: boolean): void {
    this.available = available;
  }

  async verify(input: HesVerifyInput, options: { signal?: AbortSignal } = {}): Promise<HesVerifyResult> {
    options.signal?.throwIfAborted();
    this.calls++;
    this.throwIfUnavailable();
    const status = this.statusOf(input);
    if (!status) throw new HesCodeMismatchError(input);
    return { status };
  }

  async statuses(
    inputs: readonly HesVerifyInput[],
    options: { signal?: AbortSignal } = {},
  ): Promise<HesStatusAnswer[]> {
    options.signal?.throwIfAborted();
    // The client asks nothing for an empty list: neither does the twin.
    if (inputs.length === 0) return [];
    this.calls++;
    this.throwIfUnavailable();
    return inputs.map((input) => {
      const status = this.statusOf(input);
      return status ? { status } : { mismatch: true };
    });
  }

  private throwIfUnavailable(): void {
    if (!this.available) {
      throw new HesServiceUnavailableError('HTTP_5XX', 'in-memory HES service set unavailable');
    }
  }

  /** The code's status when it belongs to that TC; undefined for a mismatch. */
  private statusOf(input: HesVerifyInput): HesStatus | undefined {
    const hes = normaliseHesCode(input.hesCode);
    const record = hes.ok ? this.byCode.get(hes.value) : undefined;
    return record && record.tcKimlikNo === input.tcKimlikNo.trim() ? record.status : undefined;
  }
}
