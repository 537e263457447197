import {
  closeSftp,
  connectPinnedSftp,
  HostKeyMismatchError,
  type SftpSettings,
} from '@boarding/sftp/connect';
import { CHECK_LIMIT_MS, type Check, CheckTimeoutError, codeOf, messageOf, timedCheck } from './check';
import { reachFix } from './reach-fix';

/**
 * The SFTP handshake with the pinned host key, key login, and the delivery directory: what a
 * delivery does before its upload, and nothing after (no file is written).
 */
export function checkSftp(
  settings: SftpSettings & { remoteDir: string },
  limitMs = CHECK_LIMIT_MS,
): Promise<Check> {
  const at = `${settings.user}@${settings.host}:${settings.port}`;
  // A connection still opening when the limit passes is closed once it settles.
  let abandoned = false;
  return timedCheck(
    'sftp',
    limitMs,
    async () => {
      const client = await connectPinnedSftp({
        ...settings,
        readyTimeoutMs: Math.min(settings.readyTimeoutMs ?? limitMs, limitMs),
      });
      try {
        if (abandoned) return { ok: false, detail: 'abandoned' };
        const kind = await client.exists(settings.remoteDir);
        const pinned = `host key ${settings.hostKeySha256} as pinned, key login`;
        if (kind !== 'd') {
          return {
            ok: false,
            detail: `${at}: ${pinned}; ${settings.remoteDir} is ${kind === false ? 'missing' : 'not a directory'}`,
            fix: 'ask the receiver for the upload directory and set SFTP_REMOTE_DIR',
          };
        }
        return {
          ok: true,
          detail: `${at}: ${pinned}, ${settings.remoteDir} is a directory (nothing uploaded)`,
        };
      } finally {
        await closeSftp(client);
      }
    },
    (err) => {
      if (err instanceof CheckTimeoutError) abandoned = true;
      return { ok: false, detail: messageOf(err), fix: sftpFix(err, at) };
    },
  );
}

function sftpFix(err: unknown, at: string): string {
  if (err instanceof HostKeyMismatchError) {
    return (
      'the server presents another host key: confirm its fingerprint with the receiver out of band, ' +
      'then set SFTP_HOST_KEY_SHA256 to it (never accept an unknown key)'
    );
  }
  const code = codeOf(err);
  if (code === 'ENOENT' || code === 'EACCES') {
    return 'SFTP_PRIVATE_KEY_PATH names no readable key file: correct it or restore the key';
  }
  if (/authentication methods failed|All configured authentication/i.test(messageOf(err))) {
    return 'the server refused the key login: correct SFTP_USER or SFTP_PRIVATE_KEY_PATH, or have the receiver install our public key';
  }
  return reachFix(err, 'the SFTP server', 'SFTP_HOST / SFTP_PORT', at);
}
