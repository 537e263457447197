import { createHash } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDeliveredName, ReceiverWatch } from './soak-receiver';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe('parseDeliveredName', () => {
  it('reads the day, the version and the kind of a delivered name', () => {
    expect(parseDeliveredName('BINIS_ESHOT_20261205_v12.csv')).toEqual({
      operator: 'ESHOT',
      day: '2026-12-05',
      version: 12,
      kind: 'file',
    });
    expect(parseDeliveredName('BINIS_ESHOT_20261205_v3.csv.gz')?.kind).toBe('file');
    expect(parseDeliveredName('BINIS_ESHOT_20261205_v3.manifest.json')?.kind).toBe('manifest');
    expect(parseDeliveredName('.BINIS_ESHOT_20261205_v3.csv.0a1b2c3d.part')).toBeUndefined();
  });
});

describe('ReceiverWatch', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'soak-receiver-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const put = (name: string, body: string) => {
    // As the SFTP delivery does: a temporary name, then a rename over the final one.
    const temp = join(dir, `.${name}.00000000.part`);
    writeFileSync(temp, body);
    renameSync(temp, join(dir, name));
  };

  it('keeps every content a name held, and a manifest naming other bytes than its file', async () => {
    const watch = new ReceiverWatch(dir, '2026-12-05');
    put('BINIS_ESHOT_20261205_v1.csv', 'first');
    put('BINIS_ESHOT_20261205_v1.manifest.json', JSON.stringify({ sha256: sha('first') }));
    put('BINIS_ESHOT_20261204_v1.csv', 'another day');
    await watch.poll();
    put('BINIS_ESHOT_20261205_v1.csv', 'second');
    await watch.poll();
    const r = watch.result();
    expect(Object.keys(r.files)).toEqual(['BINIS_ESHOT_20261205_v1.csv']);
    expect(r.files['BINIS_ESHOT_20261205_v1.csv']?.contents.map((c) => c.sha256)).toEqual([
      sha('first'),
      sha('second'),
    ]);
    expect(r.manifestMismatches).toEqual([
      expect.objectContaining({
        manifest: 'BINIS_ESHOT_20261205_v1.manifest.json',
        manifestSha256: sha('first'),
        fileSha256: sha('second'),
      }),
    ]);
  });

  it('counts upload temp files left in the directory', async () => {
    const watch = new ReceiverWatch(dir, '2026-12-05');
    writeFileSync(join(dir, '.BINIS_ESHOT_20261205_v2.csv.0a1b2c3d.part'), '');
    await watch.poll();
    expect(watch.result()).toMatchObject({ partialsNow: 1, partialsMax: 1, files: {} });
  });
});
