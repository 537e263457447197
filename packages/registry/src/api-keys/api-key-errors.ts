/** Every failure an API key verb reports: a stable code, and whether trying again may help. */
export type ApiKeyErrorCode = 'INVALID_INPUT' | 'UNKNOWN_LOCATION' | 'API_KEY_NOT_FOUND';

export class ApiKeyError extends Error {
  constructor(
    readonly code: ApiKeyErrorCode,
    message: string,
    readonly field: string | null = null,
    readonly retryable = false,
  ) {
    super(message);
    this.name = 'ApiKeyError';
  }
}
