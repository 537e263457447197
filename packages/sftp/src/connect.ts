import { readFileSync } from 'node:fs';
import type { SftpEnv } from '@boarding/config/env';
import SftpClient from 'ssh2-sftp-client';
import { fingerprintSha256, hostKeyMatches } from './host-key';

export type SftpSettings = {
  host: string;
  port: number;
  user: string;
  privateKeyPath: string;
  /** Pinned host key fingerprint, `SHA256:…`. Any other key is refused. */
  hostKeySha256: string;
  readyTimeoutMs?: number;
};

/**
 * The one mapping of the SFTP_* settings (config's `SftpEnv`, parsed by the caller) to a
 * connection and the receiver's directory: delivery, the bench and the tests all use it.
 */
export function sftpSettingsFromEnv(env: SftpEnv): SftpSettings & { remoteDir: string } {
  return {
    host: env.SFTP_HOST,
    port: env.SFTP_PORT,
    user: env.SFTP_USER,
    privateKeyPath: env.SFTP_PRIVATE_KEY_PATH,
    hostKeySha256: env.SFTP_HOST_KEY_SHA256,
    remoteDir: env.SFTP_REMOTE_DIR,
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
 * Connect with key authentication and the host key pinned. The check runs during the SSH
 * handshake, before authentication, so nothing is sent to an impostor.
 */
export async function connectPinnedSftp(settings: SftpSettings): Promise<SftpClient> {
  const client = new SftpClient('boarding-delivery');
  let presented: string | undefined;
  try {
    await client.connect({
      host: settings.host,
      port: settings.port,
      username: settings.user,
      privateKey: readFileSync(settings.privateKeyPath),
      readyTimeout: settings.readyTimeoutMs ?? 10000,
      // No password, no keyboard-interactive, no agent: key authentication only.
      tryKeyboard: false,
      agent: undefined,
      hostVerifier: (key: Buffer) => {
        presented = fingerprintSha256(key);
        return hostKeyMatches(key, settings.hostKeySha256);
      },
    });
  } catch (err) {
    await client.end().catch(() => undefined);
    if (presented !== undefined && presented !== settings.hostKeySha256.trim()) {
      throw new HostKeyMismatchError(presented, settings.hostKeySha256);
    }
    throw err;
  }
  return client;
}
