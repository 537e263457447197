import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemoryTransport } from './memory-transport';
import type { DeliveryFile } from './transport';

describe('InMemoryTransport: stopped as the real transport is', () => {
  let dir: string;
  let files: DeliveryFile[];
  const CSV = 'BINIS_ESHOT_20201120_v1.csv';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'memory-transport-'));
    await writeFile(join(dir, 'day.csv'), 'a,b\r\n1,2\r\n');
    await writeFile(join(dir, 'day.manifest.json'), '{"rows":1}\n');
    files = [
      { localPath: join(dir, 'day.csv'), name: CSV },
      { localPath: join(dir, 'day.manifest.json'), name: 'BINIS_ESHOT_20201120_v1.manifest.json' },
    ];
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('rejects with the reason of a signal already aborted and sends nothing', async () => {
    const t = new InMemoryTransport();
    const reason = new Error('shutting down');
    await expect(t.deliver(files, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect([...t.files.keys()]).toEqual([]);
  });

  it('ends a hung upload when the signal aborts, leaving only a temporary file that the next delivery sweeps', async () => {
    const t = new InMemoryTransport().failNext({ kind: 'hang', name: CSV, afterBytes: 4 });
    const controller = new AbortController();
    const hung = t.deliver(files, { signal: controller.signal });
    hung.catch(() => undefined);
    // Hung inside the upload: its first bytes are on the receiver under the temporary name.
    for (let i = 0; i < 100 && t.files.size === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(t.files.size).toBe(1);
    const reason = new Error('exporter shutting down');
    controller.abort(reason);
    await expect(hung).rejects.toBe(reason);
    expect([...t.files.keys()]).toEqual([
      expect.stringMatching(/^\.BINIS_ESHOT_20201120_v1\.csv\.[0-9a-f]{8}\.part$/),
    ]);

    await t.deliver(files);
    expect([...t.files.keys()].sort()).toEqual([CSV, 'BINIS_ESHOT_20201120_v1.manifest.json']);
  });

  it('fails a stalled upload as the real one does past its limit: retryable SFTP_TIMEOUT naming fastPut', async () => {
    const t = new InMemoryTransport().failNext({ kind: 'stall', name: CSV, afterBytes: 4 });
    await expect(t.deliver(files)).rejects.toMatchObject({
      code: 'SFTP_TIMEOUT',
      operation: 'fastPut',
      retryable: true,
    });
    expect([...t.files.keys()]).toEqual([expect.stringMatching(/\.part$/)]);
  });
});
