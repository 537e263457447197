import { readFile } from 'node:fs/promises';
import { SftpTimeoutError } from '@boarding/sftp/connect';
import {
  type DeliverOptions,
  type DeliveryFile,
  type DeliveryTransport,
  isSweepable,
  operatorPartialPrefix,
  PARTIAL_GRACE_MS,
  partialName,
  SizeMismatchError,
} from './transport';

/** How one `deliver` call should go wrong, to rehearse failures without a network. */
export type InjectedFault =
  /** The connection fails before anything is sent (server down, refused). */
  | { kind: 'unreachable'; error: Error }
  /** The connection drops after `afterBytes` bytes of the file named `name`. */
  | { kind: 'cut'; name: string; afterBytes: number }
  /**
   * The server stops answering after `afterBytes` bytes of `name`, and the transport's limit
   * ends the try: a retryable `SFTP_TIMEOUT` naming fastPut, as the SFTP transport throws (at
   * once here: the limit is not waited out in unit tests).
   */
  | { kind: 'stall'; name: string; afterBytes: number }
  /** The same stall with no limit reached: `deliver` hangs until its signal aborts (forever without one). */
  | { kind: 'hang'; name: string; afterBytes: number };

/**
 * A faithful in-memory twin of the SFTP transport for unit tests: the same temporary name,
 * size check and rename-into-place, so what a receiver could see (`files`) is exactly what the
 * real one would hold, including partial leftovers under temporary names after a cut.
 */
export class InMemoryTransport implements DeliveryTransport {
  readonly target = 'memory://ministry/incoming';
  /** The receiver's directory: name → bytes. */
  readonly files = new Map<string, Buffer>();
  /** Every `deliver` call, in order, with the names it was given. */
  readonly calls: string[][] = [];
  private readonly faults: InjectedFault[] = [];
  private sequence = 0;
  /** Temporary names this twin left behind (a cut), as the real transport remembers its own. */
  private readonly leftovers = new Set<string>();

  /** The next `deliver` calls fail as described, one fault per call. */
  failNext(...faults: InjectedFault[]): this {
    this.faults.push(...faults);
    return this;
  }

  async deliver(files: DeliveryFile[], options: DeliverOptions = {}): Promise<void> {
    const { signal } = options;
    // As the real transport: an aborted signal connects to nothing, and stops a delivery between
    // any two steps (there the connection is closed and the running step fails with the reason).
    signal?.throwIfAborted();
    this.calls.push(files.map((f) => f.name));
    const fault = this.faults.shift();
    if (fault?.kind === 'unreachable') throw fault.error;
    // As the real transport: its own leftovers go; another's temporary file (no age known here,
    // so taken as fresh) stays.
    for (const name of [...this.files.keys()]) {
      const sweep = isSweepable(name, {
        ownLeftovers: this.leftovers,
        operatorPrefix: operatorPartialPrefix(files),
        modifiedMs: null,
        nowMs: Date.now(),
        graceMs: PARTIAL_GRACE_MS,
      });
      if (sweep) {
        this.files.delete(name);
        this.leftovers.delete(name);
      }
    }
    for (const file of files) {
      signal?.throwIfAborted();
      const body = await readFile(file.localPath);
      signal?.throwIfAborted();
      const temp = partialName(file.name, (this.sequence++).toString(16).padStart(8, '0'));
      if (fault !== undefined && fault.name === file.name) {
        // What reached the receiver stays under the temporary name: the connection is gone, so
        // the transport cannot delete it and sweeps it on its next delivery.
        this.files.set(temp, body.subarray(0, fault.afterBytes));
        this.leftovers.add(temp);
        if (fault.kind === 'cut') {
          throw Object.assign(new Error('connection reset while uploading'), { code: 'ECONNRESET' });
        }
        if (fault.kind === 'stall') {
          throw new SftpTimeoutError('fastPut', `${file.name}: no further progress (in-memory stall)`);
        }
        await untilAborted(signal);
      }
      this.files.set(temp, body);
      const sent = this.files.get(temp)?.length ?? 0;
      if (sent !== body.length) throw new SizeMismatchError(file.name, body.length, sent);
      this.files.delete(temp);
      this.files.set(file.name, body);
    }
  }
}

/** Settles only by rejecting with the signal's reason when it aborts; never without a signal. */
function untilAborted(signal: AbortSignal | undefined): Promise<never> {
  return new Promise<never>((_, reject) => {
    if (!signal) return;
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}
