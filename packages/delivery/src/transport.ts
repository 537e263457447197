/** A local file to deliver and the name it must have on the receiver. */
export type DeliveryFile = { localPath: string; name: string };

export type DeliverOptions = {
  /**
   * Aborting it stops the delivery at once: the connection is closed (not left running beside
   * the next try or a shutdown) and `deliver` rejects with the signal's reason.
   */
  signal?: AbortSignal;
};

/**
 * Where day files go (the Ministry's SFTP server in production, an in-memory twin in unit
 * tests). One `deliver` call is one connection: the files are sent in the order given (the
 * manifest last), each under a temporary name, its size verified, then renamed into place,
 * so the receiver never sees a partial file under a final name. A final name that already
 * exists is replaced (a `--force` re-delivery of the same version). No call waits forever: every
 * remote step has a time limit (the SFTP transport fails a step that overruns with a retryable
 * `SFTP_TIMEOUT` and closes the connection).
 */
export interface DeliveryTransport {
  /** Where the files go, for the ledger and logs (never a secret): `sftp://user@host:port/dir`. */
  readonly target: string;
  deliver(files: DeliveryFile[], options?: DeliverOptions): Promise<void>;
}

/** The temporary name a file travels under: hidden, and marked as partial. */
export function partialName(name: string, token: string): string {
  return `.${name}.${token}.part`;
}

/** Is this a temporary name of a day file (ours or another exporter's)? */
export function isPartialName(name: string): boolean {
  return /^\.BINIS_.+\.[0-9a-f]{8}\.part$/.test(name);
}

/** How long another process's temporary file is left alone: it may be an upload in flight. */
export const PARTIAL_GRACE_MS = 15 * 60_000;

/** `.BINIS_<OPERATOR>_`: the temporary names of the operator these files belong to. */
export function operatorPartialPrefix(files: readonly DeliveryFile[]): string | null {
  const m = /^(BINIS_[A-Z0-9]+_)\d{8}_v\d+/.exec(files[0]?.name ?? '');
  return m?.[1] ? `.${m[1]}` : null;
}

/**
 * May a delivery remove this temporary file before it uploads? Only its own leftovers (a
 * temporary name this transport created and could not finish or delete: a cut connection), and
 * temporary files of the same operator older than the grace period. Never another operator's,
 * never a fresh one: that may be another exporter's upload in flight (a concurrent late-window
 * delivery of another day), and removing it would fail that upload.
 */
export function isSweepable(
  name: string,
  context: {
    ownLeftovers: ReadonlySet<string>;
    operatorPrefix: string | null;
    modifiedMs: number | null;
    nowMs: number;
    graceMs: number;
  },
): boolean {
  if (!isPartialName(name)) return false;
  if (context.ownLeftovers.has(name)) return true;
  if (context.operatorPrefix === null || !name.startsWith(context.operatorPrefix)) return false;
  return context.modifiedMs !== null && context.nowMs - context.modifiedMs >= context.graceMs;
}

/** The file on the receiver does not have the size that was sent: the upload did not complete. */
export class SizeMismatchError extends Error {
  readonly code = 'DELIVERY_SIZE_MISMATCH';
  readonly retryable = true;
  constructor(name: string, sent: number, found: number) {
    super(`${name}: ${found} bytes on the receiver after sending ${sent}; not renamed into place`);
    this.name = 'SizeMismatchError';
  }
}
