import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { IMPORT_HEADER } from '@boarding/contracts/match';
import type { Keyring } from '@boarding/encryption/keyring';
import { KeyringWorkerPool } from '@boarding/encryption/keyring-worker-pool';
import { parse } from 'csv-parse';
import type { Reject } from './reject-log';
import type { RawBatch, SealedBatch } from './seal-batch';
import { keyringJobs, SEAL_JOBS_MODULE } from './seal-jobs';

export type ReadProgress = { bytesRead: number; totalBytes: number; rows: number };

/** Where rejected lines go: the run's RejectLog, or a buffer the caller may still drop. */
export type RejectSink = { add: (reject: Reject) => void };

/** The CSV could not be read as CSV at all (bad header, broken quoting): nothing is applied. */
export class ImportFileError extends Error {
  readonly code = 'IMPORT_FILE_INVALID';
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'ImportFileError';
  }
}

export type ImportFileReader = {
  /** COPY text for the staging table, in file order. */
  chunks: AsyncIterable<string>;
  /** Valid after the chunks are consumed. */
  summary: () => { rows: number; sha256: string; bytes: number };
};

// Below this size, worker start-up (~0.2 s each) costs more than it saves.
const WORKERS_FROM_BYTES = 4 << 20;

/**
 * Stream the import file (never whole in memory): parse CSV (LF or CRLF, optional BOM), check
 * the header, then validate and seal each row (SPEC §3) on worker threads, yielding COPY text
 * in file order. Invalid rows go to `rejects` with their line number (header = line 1).
 */
export function readImportFile(
  path: string,
  keyring: Keyring,
  rejects: RejectSink,
  onProgress: (p: ReadProgress) => void = () => undefined,
  options: { batchSize?: number; workers?: number; readAhead?: number } = {},
): ImportFileReader {
  const totalBytes = statSync(path).size;
  const batchSize = options.batchSize ?? 2000;
  const workers =
    options.workers ??
    (totalBytes < WORKERS_FROM_BYTES ? 0 : Math.max(1, Math.min(4, availableParallelism())));
  const hash = createHash('sha256');
  const source = createReadStream(path, { highWaterMark: 1 << 20 });
  let rows = 0;
  let sha256 = '';

  async function* records(): AsyncGenerator<RawBatch> {
    // Attached here, not at creation: a 'data' listener starts the flow, and nothing may be read
    // before the parser is piped in.
    source.on('data', (chunk) => hash.update(chunk));
    const parser = source.pipe(
      parse({ bom: true, info: true, relax_column_count: true, skip_empty_lines: true }),
    );
    let batch: RawBatch = { records: [], lines: [] };
    let header = true;
    try {
      for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
        if (header) {
          header = false;
          const got = item.record.map((c) => c.trim().toLowerCase());
          if (got.join(',') !== IMPORT_HEADER.join(',')) {
            throw new ImportFileError(`line 1: header must be ${IMPORT_HEADER.join(',')}`);
          }
          continue;
        }
        rows++;
        batch.records.push(item.record);
        batch.lines.push(item.info.lines);
        if (batch.records.length >= batchSize) {
          yield batch;
          batch = { records: [], lines: [] };
        }
      }
    } catch (err) {
      if (err instanceof ImportFileError) throw err;
      // csv-parse's messages may quote field content: keep its code and line only.
      const e = err as { code?: string; lines?: number };
      throw new ImportFileError(`line ${e.lines ?? '?'}: not valid CSV (${e.code ?? 'parse error'})`);
    }
    if (header) throw new ImportFileError('the file is empty: no header line');
    if (batch.records.length > 0) yield batch;
    sha256 = hash.digest('hex');
  }

  async function* recordsThenClose(): AsyncGenerator<RawBatch> {
    try {
      yield* records();
    } finally {
      // A reader given up half-way (the streaming apply falling back) must not keep the file open.
      source.destroy();
    }
  }

  async function* chunks(): AsyncGenerator<string> {
    const pool = KeyringWorkerPool.start({
      keyring,
      workers,
      jobs: keyringJobs,
      jobsModule: SEAL_JOBS_MODULE,
      label: 'sealing worker',
    });
    // Up to two batches in flight per worker keeps every worker busy while COPY drains; a
    // consumer that spends longer on each chunk (the streaming apply) asks for more, so the
    // workers keep sealing meanwhile.
    const inFlight: Promise<SealedBatch>[] = [];
    const depth = Math.max(1, workers * 2, options.readAhead ?? 0);
    const take = async () => {
      const head = inFlight.shift();
      if (!head) return '';
      const sealed = await head;
      for (const r of sealed.rejects) rejects.add(r);
      onProgress({ bytesRead: source.bytesRead, totalBytes, rows });
      return sealed.copy;
    };
    try {
      for await (const batch of recordsThenClose()) {
        const sealed = pool.run('sealBatch', batch);
        // Awaited in file order by take(); a failure further back must not count as unhandled meanwhile.
        sealed.catch(() => undefined);
        inFlight.push(sealed);
        if (inFlight.length >= depth) yield await take();
      }
      while (inFlight.length > 0) yield await take();
      onProgress({ bytesRead: totalBytes, totalBytes, rows });
    } finally {
      // Settle what is still running before the workers go (an aborted import).
      await Promise.allSettled(inFlight);
      await pool.close();
    }
  }

  return { chunks: chunks(), summary: () => ({ rows, sha256, bytes: totalBytes }) };
}
