import { readdirSync, utimesSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { connectPinnedSftp } from '@boarding/sftp/connect';
import { createTestSftpDir, type TestSftpDir } from '@boarding/testing/sftp';
import { createSftpTransport } from './sftp-transport';

describe('SFTP transport: what a delivery sweeps before it uploads', () => {
  let sftp: TestSftpDir;
  let local: string;

  beforeAll(async () => {
    sftp = await createTestSftpDir('sweep');
    local = await mkdtemp(join(tmpdir(), 'sweep-'));
  });
  afterAll(async () => {
    await sftp.remove();
    await rm(local, { recursive: true, force: true });
  });

  /** A temporary file on the receiver as another process would have left it, `ageMs` old. */
  async function leave(name: string, ageMs: number): Promise<void> {
    const client = await connectPinnedSftp(sftp.settings);
    try {
      await client.put(Buffer.from('partial'), posix.join(sftp.remoteDir, name));
    } finally {
      await client.end();
    }
    const at = new Date(Date.now() - ageMs);
    utimesSync(join(sftp.localDir, name), at, at);
  }

  it("never removes another exporter's upload in flight or another operator's file; removes this operator's stale ones", async () => {
    const inFlight = '.BINIS_ESHOT_20201119_v2.csv.0000abcd.part';
    const otherOperator = '.BINIS_IZBAN_20201120_v1.csv.0000abcd.part';
    const stale = '.BINIS_ESHOT_20201118_v1.csv.0000beef.part';
    await leave(inFlight, 5_000);
    await leave(otherOperator, 2 * 3_600_000);
    await leave(stale, 2 * 3_600_000);
    const file = join(local, 'BINIS_ESHOT_20201120_v1.csv');
    await writeFile(file, 'a,b\r\n1,2\r\n');

    const transport = createSftpTransport({ ...sftp.settings, remoteDir: sftp.remoteDir });
    await transport.deliver([{ localPath: file, name: 'BINIS_ESHOT_20201120_v1.csv' }]);

    expect(readdirSync(sftp.localDir).sort()).toEqual(
      ['BINIS_ESHOT_20201120_v1.csv', inFlight, otherOperator].sort(),
    );
  });
});
