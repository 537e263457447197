import { randomBytes } from 'node:crypto';
import { join, posix } from 'node:path';
import { connectPinnedSftp, type SftpSettings, sftpSettingsFromEnv } from '@boarding/sftp/connect';
import { testEnv } from './env';

export type TestSftpDir = {
  settings: SftpSettings;
  /** The directory as the SFTP client names it (inside the chroot). */
  remoteDir: string;
  /** The same directory on this machine's disk, to check what the receiver holds. */
  localDir: string;
  remove: () => Promise<void>;
};

/**
 * A fresh directory on the local stack's SFTP server for one test file, so files delivered by
 * parallel test files never meet. Created over SFTP (the chroot belongs to the SFTP user).
 */
export async function createTestSftpDir(label = 'test'): Promise<TestSftpDir> {
  const env = testEnv();
  const name = `${label.replace(/[^a-z0-9_-]/gi, '_')}-${randomBytes(4).toString('hex')}`;
  const { remoteDir: incoming, ...settings } = sftpSettingsFromEnv(env);
  const remoteDir = posix.join(incoming, name);
  const client = await connectPinnedSftp(settings);
  try {
    await client.mkdir(remoteDir);
  } finally {
    await client.end();
  }
  return {
    settings,
    remoteDir,
    localDir: join(env.SFTP_LOCAL_INCOMING, name),
    remove: async () => {
      const c = await connectPinnedSftp(settings);
      try {
        await c.rmdir(remoteDir, true);
      } finally {
        await c.end();
      }
    },
  };
}
