import { normaliseHesCode } from '@boarding/contracts/hes-code';
import type { HesRecord } from './records';
import {
  HesCodeMismatchError,
  HesServiceUnavailableError,
  type HesVerifier,
  type HesVerifyInput,
  type HesVerifyResult,
} from './verifier';

/**
 * The in-memory twin of the HES service for unit tests of callers: the same answers and errors
 * as the HTTP client against the stand-in (a code unknown or of another person is a mismatch),
 * and a switch to make it unavailable.
 */
export class InMemoryHesVerifier implements HesVerifier {
  private readonly byCode = new Map<string, HesRecord>();
  private available = true;
  /** How many verifications were asked, answered or not. */
  calls = 0;

  constructor(records: readonly HesRecord[] = []) {
    for (const record of records) this.add(record);
  }

  add(record: HesRecord): void {
    const hes = normaliseHesCode(record.hesCode);
    const hesCode = hes.ok ? hes.value : record.hesCode;
    this.byCode.set(hesCode, { ...record, hesCode, tcKimlikNo: record.tcKimlikNo.trim() });
  }

  setAvailable(available: boolean): void {
    this.available = available;
  }

  async verify(input: HesVerifyInput, options: { signal?: AbortSignal } = {}): Promise<HesVerifyResult> {
    options.signal?.throwIfAborted();
    this.calls++;
    if (!this.available)
      throw new HesServiceUnavailableError('HTTP_5XX', 'in-memory HES service set unavailable');
    const hes = normaliseHesCode(input.hesCode);
    const record = hes.ok ? this.byCode.get(hes.value) : undefined;
    if (!record || record.tcKimlikNo !== input.tcKimlikNo.trim()) throw new HesCodeMismatchError(input);
    return { status: record.status };
  }
}
