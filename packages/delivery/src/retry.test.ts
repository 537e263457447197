import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { settleWithin } from '@boarding/testing/settle';
import { InMemoryTransport } from './memory-transport';
import { type AttemptReport, DeliveryFailedError, deliverWithRetry } from './retry';
import type { DeliveryFile } from './transport';

const FAST = { attempts: 4, initialDelayMs: 1, maxDelayMs: 2 };

describe('deliverWithRetry over the in-memory twin', () => {
  let dir: string;
  let files: DeliveryFile[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'delivery-'));
    await writeFile(join(dir, 'day.csv'), 'a,b\r\n1,2\r\n');
    await writeFile(join(dir, 'day.manifest.json'), '{"rows":1}\n');
    files = [
      { localPath: join(dir, 'day.csv'), name: 'BINIS_ESHOT_20201120_v1.csv' },
      { localPath: join(dir, 'day.manifest.json'), name: 'BINIS_ESHOT_20201120_v1.manifest.json' },
    ];
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('delivers both files in the order given, the manifest last', async () => {
    const t = new InMemoryTransport();
    const reports: AttemptReport[] = [];
    await deliverWithRetry(t, files, { policy: FAST, onAttempt: async (r) => void reports.push(r) });
    expect([...t.files.keys()]).toEqual([
      'BINIS_ESHOT_20201120_v1.csv',
      'BINIS_ESHOT_20201120_v1.manifest.json',
    ]);
    expect(t.files.get('BINIS_ESHOT_20201120_v1.csv')?.toString()).toBe('a,b\r\n1,2\r\n');
    expect(reports.map((r) => r.error)).toEqual([null]);
  });

  it('retries a transient failure and reports every try', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:22'), { code: 'ECONNREFUSED' });
    const t = new InMemoryTransport().failNext(
      { kind: 'unreachable', error: refused },
      { kind: 'cut', name: 'BINIS_ESHOT_20201120_v1.csv', afterBytes: 3 },
    );
    const reports: AttemptReport[] = [];
    const { attempts } = await deliverWithRetry(t, files, {
      policy: FAST,
      onAttempt: async (r) => void reports.push(r),
    });
    expect(attempts).toBe(3);
    expect(reports.map((r) => [r.attempt, r.error?.code ?? null])).toEqual([
      [1, 'ECONNREFUSED'],
      [2, 'ECONNRESET'],
      [3, null],
    ]);
    // The partial left by the cut was swept by the next delivery; only final names remain.
    expect([...t.files.keys()].sort()).toEqual([
      'BINIS_ESHOT_20201120_v1.csv',
      'BINIS_ESHOT_20201120_v1.manifest.json',
    ]);
  });

  it('a cut mid-upload leaves the bytes under the temporary name only', async () => {
    const t = new InMemoryTransport().failNext({
      kind: 'cut',
      name: 'BINIS_ESHOT_20201120_v1.csv',
      afterBytes: 4,
    });
    await expect(
      deliverWithRetry(t, files, { policy: { ...FAST, attempts: 1 }, onAttempt: async () => undefined }),
    ).rejects.toBeInstanceOf(DeliveryFailedError);
    const names = [...t.files.keys()];
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(/^\.BINIS_ESHOT_20201120_v1\.csv\.[0-9a-f]{8}\.part$/);
    expect(t.files.get(names[0] ?? '')?.toString()).toBe('a,b\r');
  });

  it('gives up after the last try with the last error', async () => {
    const down = Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' });
    const t = new InMemoryTransport().failNext(
      ...Array.from({ length: 4 }, () => ({ kind: 'unreachable' as const, error: down })),
    );
    const run = deliverWithRetry(t, files, { policy: FAST, onAttempt: async () => undefined });
    await expect(run).rejects.toMatchObject({ code: 'ETIMEDOUT', attempts: 4, retryable: true });
    expect(t.calls).toHaveLength(4);
    expect(t.files.size).toBe(0);
  });

  it('does not retry what waiting cannot fix: a wrong host key, refused credentials', async () => {
    const mismatch = Object.assign(new Error('SFTP host key mismatch'), {
      code: 'SFTP_HOST_KEY_MISMATCH',
      retryable: false,
    });
    const t = new InMemoryTransport().failNext({ kind: 'unreachable', error: mismatch });
    await expect(
      deliverWithRetry(t, files, { policy: FAST, onAttempt: async () => undefined }),
    ).rejects.toMatchObject({
      code: 'SFTP_HOST_KEY_MISMATCH',
      attempts: 1,
      retryable: false,
    });
    const auth = Object.assign(new Error('All configured authentication methods failed'), {
      level: 'client-authentication',
    });
    const t2 = new InMemoryTransport().failNext({ kind: 'unreachable', error: auth });
    await expect(
      deliverWithRetry(t2, files, { policy: FAST, onAttempt: async () => undefined }),
    ).rejects.toMatchObject({
      code: 'SFTP_AUTH_REFUSED',
      attempts: 1,
    });
  });

  it('retries an upload the transport stopped for overrunning its limit (SFTP_TIMEOUT)', async () => {
    const t = new InMemoryTransport().failNext({
      kind: 'stall',
      name: 'BINIS_ESHOT_20201120_v1.csv',
      afterBytes: 4,
    });
    const reports: AttemptReport[] = [];
    await deliverWithRetry(t, files, { policy: FAST, onAttempt: async (r) => void reports.push(r) });
    expect(reports.map((r) => [r.attempt, r.error?.code ?? null, r.error?.retryable ?? null])).toEqual([
      [1, 'SFTP_TIMEOUT', true],
      [2, null, null],
    ]);
  });

  it('an aborted signal stops the try in flight and every later one, with the signal’s reason', async () => {
    const t = new InMemoryTransport().failNext({
      kind: 'hang',
      name: 'BINIS_ESHOT_20201120_v1.csv',
      afterBytes: 4,
    });
    const reports: AttemptReport[] = [];
    const controller = new AbortController();
    const run = deliverWithRetry(t, files, {
      policy: FAST,
      onAttempt: async (r) => void reports.push(r),
      signal: controller.signal,
    });
    run.catch(() => undefined);
    for (let i = 0; i < 100 && t.files.size === 0; i++) await new Promise((r) => setTimeout(r, 5));
    const reason = Object.assign(new Error('exporter shutting down'), { code: 'SHUTDOWN' });
    controller.abort(reason);
    await expect(settleWithin(10_000, run, 'deliverWithRetry')).rejects.toBe(reason);
    expect(t.calls).toHaveLength(1);
    expect(reports.map((r) => [r.attempt, r.error?.code])).toEqual([[1, 'SHUTDOWN']]);
  });

  it('an abort during the wait between tries ends it at once, with no further try', async () => {
    // The backoff's timers are fake (never fire by themselves, none left running after the test):
    // only the abort can end this wait.
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    try {
      const down = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      const t = new InMemoryTransport().failNext({ kind: 'unreachable', error: down });
      const controller = new AbortController();
      const reports: AttemptReport[] = [];
      let outcome: unknown;
      const run = deliverWithRetry(t, files, {
        policy: { attempts: 3, initialDelayMs: 60_000, maxDelayMs: 60_000 },
        onAttempt: async (r) => void reports.push(r),
        signal: controller.signal,
      }).then(
        () => 'delivered',
        (err: Error) => err.message,
      );
      void run.then((o) => {
        outcome = o;
      });
      for (let i = 0; i < 100 && reports.length === 0; i++) await new Promise((r) => setImmediate(r));
      controller.abort(new Error('exporter shutting down'));
      for (let i = 0; i < 100 && outcome === undefined; i++) await new Promise((r) => setImmediate(r));
      expect(outcome).toBe('exporter shutting down');
      expect(t.calls).toHaveLength(1);
      expect(reports.map((r) => r.error?.code)).toEqual(['ECONNREFUSED']);
    } finally {
      jest.useRealTimers();
    }
  });
});
