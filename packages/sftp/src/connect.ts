import { readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import type { SftpEnv } from '@boarding/config/env';
import { withTimeout } from '@boarding/lifecycle/time-limit';
import SftpClient from 'ssh2-sftp-client';
import { fingerprintSha256, hostKeyMatches } from './host-key';

export type SftpSettings = {
  host: string;
  port: number;
  user: string;
  privateKeyPath: string;
  /** Pinned host key fingerprint, `SHA256:…`. Any other key is refused. */
  hostKeySha256: string;
  /** TCP connect, SSH handshake, authentication and opening SFTP, all within this. */
  readyTimeoutMs?: number;
  /** An SSH keepalive every interval once connected; `keepaliveCountMax` unanswered drop the connection. */
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  /**
   * Limit of one SFTP operation for callers that run them (delivery): list, stat, rename,
   * delete; an upload fails after this long without progress.
   */
  operationTimeoutMs?: number;
};

/**
 * Ready 10 s: a healthy server answers in well under a second. Keepalive 5 s × 3: a connection
 * gone silent (a hung server, a route lost with the sockets still open, where TCP alone would
 * wait for hours) is dropped within about 20 s. 30 s per operation, or without upload progress.
 */
export const SFTP_DEFAULTS = {
  readyTimeoutMs: 10_000,
  keepaliveIntervalMs: 5_000,
  keepaliveCountMax: 3,
  operationTimeoutMs: 30_000,
} as const satisfies Partial<SftpSettings>;

/**
 * The one mapping of the SFTP_* settings (config's `SftpEnv`, parsed by the caller) to a
 * connection and the receiver's directory: delivery, the bench and the tests all use it.
 */
export function sftpSettingsFromEnv(
  env: SftpEnv,
): SftpSettings & Required<Pick<SftpSettings, keyof typeof SFTP_DEFAULTS>> & { remoteDir: string } {
  return {
    host: env.SFTP_HOST,
    port: env.SFTP_PORT,
    user: env.SFTP_USER,
    privateKeyPath: env.SFTP_PRIVATE_KEY_PATH,
    hostKeySha256: env.SFTP_HOST_KEY_SHA256,
    remoteDir: env.SFTP_REMOTE_DIR,
    readyTimeoutMs: env.SFTP_READY_TIMEOUT_MS ?? SFTP_DEFAULTS.readyTimeoutMs,
    keepaliveIntervalMs: env.SFTP_KEEPALIVE_INTERVAL_MS ?? SFTP_DEFAULTS.keepaliveIntervalMs,
    keepaliveCountMax: env.SFTP_KEEPALIVE_COUNT_MAX ?? SFTP_DEFAULTS.keepaliveCountMax,
    operationTimeoutMs: env.SFTP_TIMEOUT_MS ?? SFTP_DEFAULTS.operationTimeoutMs,
  };
}

/** The server presented a host key other than the pinned one: never retry, never accept. */
export class HostKeyMismatchError extends Error {
  readonly code = 'SFTP_HOST_KEY_MISMATCH';
  readonly retryable = false;
  constructor(
    readonly presented: string,
    readonly pinned: string,
  ) {
    super(`SFTP host key mismatch: server presented ${presented}, pinned ${pinned}; connection refused`);
    this.name = 'HostKeyMismatchError';
  }
}

/**
 * An SFTP step (`connect`, `list`, `fastPut` …) overran its limit; the connection was closed, so
 * the step is really over, not left running beside the next try. Retryable. The message names
 * the operation and at most a file name, never the file's content.
 */
export class SftpTimeoutError extends Error {
  readonly code = 'SFTP_TIMEOUT';
  readonly retryable = true;
  constructor(
    readonly operation: string,
    detail: string,
  ) {
    super(`SFTP ${operation} timed out: ${detail}; connection closed`);
    this.name = 'SftpTimeoutError';
  }
}

// ssh2-sftp-client prints every connection event to the console by default; failures reach the
// caller through the operation that was running, so the global listeners stay silent.
const QUIET = { error: () => undefined, end: () => undefined, close: () => undefined };

/**
 * The socket under each client: it is created here and handed to ssh2, so it can be destroyed
 * whatever state the SSH layer is in (ssh2's own `end()` waits for the server's answer, and its
 * `destroy()` does nothing once an `end()` has begun).
 */
const sockets = new WeakMap<SftpClient, Socket>();

/**
 * Close the connection at once: the socket is destroyed, nothing waits for the server. Every
 * operation still running on it fails. For a try that overran or was aborted.
 */
export function closeSftpNow(client: SftpClient): void {
  sockets.get(client)?.destroy();
}

/**
 * Close politely (SSH disconnect, wait for the server to close) for up to `graceMs`, then at
 * once: a server that went silent cannot hold the caller.
 */
export async function closeSftp(client: SftpClient, graceMs = 2_000): Promise<void> {
  try {
    // A failed or overrun polite close changes nothing: the socket is destroyed either way.
    await withTimeout(graceMs, client.end(), () => new Error('SFTP close: grace over')).catch(
      () => undefined,
    );
  } finally {
    closeSftpNow(client);
  }
}

/**
 * Connect with key authentication and the host key pinned. The check runs during the SSH
 * handshake, before authentication, so nothing is sent to an impostor. The whole connect is
 * bounded by `readyTimeoutMs` (a `SftpTimeoutError` naming `connect`), and an abort of `signal`
 * stops it (rejecting with the signal's reason); either way the connection is closed. Once
 * connected, SSH keepalives drop a connection whose server has gone silent.
 */
export async function connectPinnedSftp(
  settings: SftpSettings,
  options: { signal?: AbortSignal } = {},
): Promise<SftpClient> {
  const { signal } = options;
  signal?.throwIfAborted();
  const readyTimeoutMs = settings.readyTimeoutMs ?? SFTP_DEFAULTS.readyTimeoutMs;
  const keepaliveIntervalMs = settings.keepaliveIntervalMs ?? SFTP_DEFAULTS.keepaliveIntervalMs;
  const privateKey = readFileSync(settings.privateKeyPath);
  const client = new SftpClient('boarding-delivery', QUIET);
  const socket = new Socket();
  sockets.set(client, socket);
  let presented: string | undefined;
  // Why the connect was stopped from here, when it was: that, not the error the closed socket
  // then causes in ssh2, is what the caller gets.
  let stopped: unknown;
  const stop = (reason: unknown) => {
    stopped ??= reason;
    socket.destroy();
  };
  const notReady = () => new SftpTimeoutError('connect', `not ready within ${readyTimeoutMs} ms`);
  const timer = setTimeout(() => stop(notReady()), readyTimeoutMs);
  const onAbort = () => stop(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  // ssh2's own ready timeout (set to the same limit, a second guard) reports itself by level.
  const onSshError = (err: Error & { level?: string }) => {
    if (err.level === 'client-timeout') {
      stopped ??= notReady();
    }
  };
  client.on('error', onSshError);
  try {
    socket.setKeepAlive(true, keepaliveIntervalMs);
    socket.connect({ host: settings.host, port: settings.port });
    await client.connect({
      sock: socket,
      host: settings.host,
      port: settings.port,
      username: settings.user,
      privateKey,
      readyTimeout: readyTimeoutMs,
      keepaliveInterval: keepaliveIntervalMs,
      keepaliveCountMax: settings.keepaliveCountMax ?? SFTP_DEFAULTS.keepaliveCountMax,
      // No password, no keyboard-interactive, no agent: key authentication only.
      tryKeyboard: false,
      agent: undefined,
      hostVerifier: (key: Buffer) => {
        presented = fingerprintSha256(key);
        return hostKeyMatches(key, settings.hostKeySha256);
      },
    });
  } catch (err) {
    socket.destroy();
    if (stopped !== undefined) throw stopped;
    if (presented !== undefined && presented !== settings.hostKeySha256.trim()) {
      throw new HostKeyMismatchError(presented, settings.hostKeySha256);
    }
    throw err;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    client.removeListener('error', onSshError);
  }
  return client;
}
