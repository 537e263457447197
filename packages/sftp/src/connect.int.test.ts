import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadEnv, SftpEnv } from '@boarding/config/env';
import { z } from 'zod';

// The local stack's settings (.local/stack.env); @boarding/testing depends on this package.
const testEnv = () => loadEnv(SftpEnv.extend({ SFTP_LOCAL_INCOMING: z.string().min(1) }));

import { connectPinnedSftp, HostKeyMismatchError, type SftpSettings, sftpSettingsFromEnv } from './connect';

function settings(overrides: Partial<SftpSettings> = {}): SftpSettings {
  const { remoteDir: _remoteDir, ...connection } = sftpSettingsFromEnv(testEnv());
  return { ...connection, ...overrides };
}

describe('SFTP to the local Ministry server', () => {
  it('uploads under a temporary name, renames into place and reads back the same bytes', async () => {
    const env = testEnv();
    const name = `smoke-${randomUUID()}.csv`;
    const body = Buffer.from('a,b\r\n1,2\r\n');
    const client = await connectPinnedSftp(settings());
    try {
      const tmp = `${env.SFTP_REMOTE_DIR}/.${name}.part`;
      await client.put(body, tmp);
      expect(existsSync(join(env.SFTP_LOCAL_INCOMING, name))).toBe(false);
      await client.rename(tmp, `${env.SFTP_REMOTE_DIR}/${name}`);
      const back = (await client.get(`${env.SFTP_REMOTE_DIR}/${name}`)) as Buffer;
      expect(back.equals(body)).toBe(true);
      expect(readFileSync(join(env.SFTP_LOCAL_INCOMING, name)).equals(body)).toBe(true);
      await client.delete(`${env.SFTP_REMOTE_DIR}/${name}`);
    } finally {
      await client.end();
    }
  });

  it('refuses a server whose host key is not the pinned one, before any file is sent', async () => {
    const env = testEnv();
    const before = readdirSync(env.SFTP_LOCAL_INCOMING);
    const wrongPin = `SHA256:${'A'.repeat(43)}`;
    const attempt = connectPinnedSftp(settings({ hostKeySha256: wrongPin })).then(async (client) => {
      // Reaching here means the pin was not enforced: send a file so the assertion below sees it.
      await client.put(Buffer.from('leak'), `${env.SFTP_REMOTE_DIR}/should-not-exist.csv`);
      await client.end();
    });
    await expect(attempt).rejects.toBeInstanceOf(HostKeyMismatchError);
    await expect(attempt).rejects.toThrow(`pinned ${wrongPin}`);
    expect(readdirSync(env.SFTP_LOCAL_INCOMING)).toEqual(before);
  });

  it('refuses a client key the server does not know', async () => {
    const env = testEnv();
    const wrongKey = join(env.SFTP_PRIVATE_KEY_PATH, '..', 'ssh_host_ed25519_key');
    await expect(connectPinnedSftp(settings({ privateKeyPath: wrongKey }))).rejects.toThrow(
      /authentication/i,
    );
  });
});
