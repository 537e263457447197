/** A server of the local stack could not be installed, started or reached. */
export class StackError extends Error {
  readonly code = 'STACK_FAILED';
  readonly retryable = false;
  constructor(
    readonly server: string,
    message: string,
  ) {
    super(`${server}: ${message}`);
    this.name = 'StackError';
  }
}
