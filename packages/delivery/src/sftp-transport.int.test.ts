import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, utimesSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { connectPinnedSftp, type SftpSettings } from '@boarding/sftp/connect';
import { settleWithin } from '@boarding/testing/settle';
import { createTestSftpDir, type TestSftpDir } from '@boarding/testing/sftp';
import { TcpProxy } from '@boarding/testing/tcp-proxy';
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

describe('SFTP transport: a server that stops answering never holds a delivery forever', () => {
  let sftp: TestSftpDir;
  let local: string;
  let proxy: TcpProxy;
  const NAME = 'BINIS_ESHOT_20201121_v1.csv';
  const file = () => ({ localPath: join(local, NAME), name: NAME });

  beforeAll(async () => {
    sftp = await createTestSftpDir('limits');
    local = await mkdtemp(join(tmpdir(), 'limits-'));
    // 2 MiB: the stall below (64 KiB in) comes well inside the upload.
    await writeFile(join(local, NAME), randomBytes(2 * 1024 * 1024));
  });
  beforeEach(async () => {
    proxy = await new TcpProxy(sftp.settings.host, sftp.settings.port).up();
  });
  afterEach(async () => {
    await proxy.down();
  });
  afterAll(async () => {
    await sftp.remove();
    await rm(local, { recursive: true, force: true });
  });

  const through = (overrides: Partial<SftpSettings> = {}) =>
    createSftpTransport({ ...sftp.settings, port: proxy.port, remoteDir: sftp.remoteDir, ...overrides });

  it('an upload that stops making progress fails with a retryable SFTP_TIMEOUT naming fastPut, and its connection is closed', async () => {
    proxy.stallAfter(64 * 1024); // past the handshake (a few kB), inside the file
    const transport = through({ operationTimeoutMs: 500 });
    const delivery = transport.deliver([file()]);
    await expect(settleWithin(30_000, delivery, 'deliver')).rejects.toMatchObject({
      code: 'SFTP_TIMEOUT',
      operation: 'fastPut',
      retryable: true,
    });
    await expect(delivery).rejects.toThrow(NAME);
    expect(proxy.accepted).toBe(1);
    expect(await proxy.clientsClosed()).toBe(true);

    // The next try, on a sound connection, delivers and removes the hung try's temporary file.
    proxy.stallAfter(undefined);
    await settleWithin(30_000, transport.deliver([file()]), 'the next deliver');
    expect(readdirSync(sftp.localDir)).toEqual([NAME]);
    expect(readFileSync(join(sftp.localDir, NAME)).equals(readFileSync(join(local, NAME)))).toBe(true);
  });

  it('a server that stops answering keepalives fails the running step with SFTP_TIMEOUT too, connection closed', async () => {
    proxy.stallAfter(64 * 1024);
    // The step's own limit far away: the keepalive (200 ms × 2) is what notices.
    const transport = through({
      operationTimeoutMs: 600_000,
      keepaliveIntervalMs: 200,
      keepaliveCountMax: 2,
    });
    const delivery = transport.deliver([file()]);
    await expect(settleWithin(30_000, delivery, 'deliver')).rejects.toMatchObject({
      code: 'SFTP_TIMEOUT',
      operation: 'fastPut',
      retryable: true,
      message: expect.stringMatching(/keepalives/),
    });
    expect(await proxy.clientsClosed()).toBe(true);
  });

  it('an aborted signal closes the connection at once and deliver rejects with its reason', async () => {
    proxy.stallAfter(64 * 1024);
    // Limits far away: only the signal can end this delivery.
    const transport = through({ operationTimeoutMs: 600_000, keepaliveIntervalMs: 600_000 });
    const controller = new AbortController();
    const delivery = transport.deliver([file()], { signal: controller.signal });
    delivery.catch(() => undefined);
    for (let i = 0; i < 500 && proxy.stalledConnections === 0; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(proxy.stalledConnections).toBe(1);
    const reason = new Error('exporter shutting down');
    controller.abort(reason);
    await expect(settleWithin(30_000, delivery, 'deliver')).rejects.toBe(reason);
    expect(await proxy.clientsClosed()).toBe(true);
  });

  it('a signal already aborted connects to nothing', async () => {
    const reason = new Error('shutting down');
    await expect(through().deliver([file()], { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(proxy.accepted).toBe(0);
  });
});
