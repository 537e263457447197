import { randomFillSync, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { connectPinnedSftp, type SftpSettings } from '@boarding/sftp/connect';
import type { Rate } from './harness';

type Cleanup = (label: string, undo: () => Promise<void>) => () => Promise<void>;

const WRITE_CHUNK = 4 * 1024 * 1024;
// fastPut's defaults are 64 × 32 KiB requests in flight. On the reference machine 32 × 128 KiB
// did 15–20 % better (fewer SFTP round trips per MB; OpenSSH accepts writes up to 256 KiB).
export const SFTP_CHUNK_BYTES = 128 * 1024;
export const SFTP_CONCURRENCY = 32;
// Uploaded first, untimed: the first transfer of a process (cold JIT in ssh2's crypto and framing)
// came out ~30 % slower than the next one of the same file.
export const SFTP_WARMUP_BYTES = 20_000_000;

function* randomChunks(bytes: number): Generator<Buffer> {
  for (let left = bytes; left > 0; left -= WRITE_CHUNK) {
    yield randomFillSync(Buffer.allocUnsafe(Math.min(WRITE_CHUNK, left)));
  }
}

/**
 * Uploads a file of `bytes` random bytes with `fastPut` (parallel SFTP writes) to the remote
 * directory, under a dot-name the receiver ignores. Random bytes, because SSH may compress and
 * a delivery file of taps is not a run of zeros. Writing the local file is not timed; it then
 * sits in the page cache, so the figure is SSH + SFTP + the receiver's disk, not our disk.
 */
export async function measureSftpUpload(options: {
  sftp: SftpSettings;
  remoteDir: string;
  bytes: number;
  progress: (message: string) => void;
  cleanup: Cleanup;
}): Promise<Rate> {
  const { bytes, progress } = options;
  const dir = await mkdtemp(join(tmpdir(), 'boarding-bench-'));
  const removeLocal = options.cleanup(`remove ${dir}`, () => rm(dir, { recursive: true, force: true }));
  try {
    const local = join(dir, 'upload.bin');
    const warmupLocal = join(dir, 'warmup.bin');
    progress(`sftp-upload: writing ${(bytes / 1e6).toFixed(0)} MB of random bytes to ${local}`);
    await pipeline(Readable.from(randomChunks(bytes)), createWriteStream(local));
    await pipeline(
      Readable.from(randomChunks(Math.min(bytes, SFTP_WARMUP_BYTES))),
      createWriteStream(warmupLocal),
    );
    const transfer = { chunkSize: SFTP_CHUNK_BYTES, concurrency: SFTP_CONCURRENCY };
    const client = await connectPinnedSftp(options.sftp);
    const disconnect = options.cleanup('close SFTP connection', () => client.end().then(() => undefined));
    try {
      const remote = `${options.remoteDir}/.bench-${randomUUID()}.part`;
      const removeRemote = options.cleanup(`delete remote ${remote}`, () =>
        client.delete(remote, true).then(() => undefined),
      );
      try {
        await client.fastPut(warmupLocal, remote, transfer);
        const started = performance.now();
        await client.fastPut(local, remote, transfer);
        const seconds = (performance.now() - started) / 1000;
        const { size } = await client.stat(remote);
        if (size !== bytes)
          throw new Error(`sftp-upload: the remote file has ${size} bytes, ${bytes} were sent`);
        progress(`sftp-upload: ${(bytes / 1e6).toFixed(0)} MB in ${seconds.toFixed(2)} s`);
        return { value: bytes / 1e6 / seconds, unit: 'MB/s', amount: bytes, seconds };
      } finally {
        await removeRemote();
      }
    } finally {
      await disconnect();
    }
  } finally {
    await removeLocal();
  }
}
