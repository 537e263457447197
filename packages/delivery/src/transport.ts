/** A local file to deliver and the name it must have on the receiver. */
export type DeliveryFile = { localPath: string; name: string };

/**
 * Where day files go (the Ministry's SFTP server in production, an in-memory twin in unit
 * tests). One `deliver` call is one connection: the files are sent in the order given (the
 * manifest last), each under a temporary name, its size verified, then renamed into place,
 * so the receiver never sees a partial file under a final name. A final name that already
 * exists is replaced (a `--force` re-delivery of the same version).
 */
export interface DeliveryTransport {
  /** Where the files go, for the ledger and logs (never a secret): `sftp://user@host:port/dir`. */
  readonly target: string;
  deliver(files: DeliveryFile[]): Promise<void>;
}

/** The temporary name a file travels under: hidden, and marked as partial. */
export function partialName(name: string, token: string): string {
  return `.${name}.${token}.part`;
}

/** Is this one of our temporary names (left behind by a connection cut mid-upload)? */
export function isPartialName(name: string): boolean {
  return /^\.BINIS_.+\.[0-9a-f]{8}\.part$/.test(name);
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
