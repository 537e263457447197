import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Transform } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { isCalendarDay } from '@boarding/contracts/time';
import { withTransaction } from '@boarding/db/transaction';
import type { Keyring } from '@boarding/encryption/keyring';
import { KeyringWorkerPool } from '@boarding/encryption/keyring-worker-pool';
import type { Pool, PoolClient } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { BatchCells, ClearCells, type OpenedCells } from './clear-cells';
import { CopyTupleBatcher } from './copy-tuples';
import { DAY_FILE_COLUMNS } from './day-file-format';
import { csvBytesFor, DAY_QUERY_COLUMNS, DayRows, formatDayRows } from './day-file-rows';
import { DECRYPT_JOBS_MODULE, keyringJobs } from './decrypt-jobs';
import { SlabPool } from './slab-pool';
import { writeInOrder } from './write-in-order';

/**
 * Every stored tap of day D whose card had a match at tapped_at, joined against the registry AS
 * IT STANDS NOW (a back-dated correction changes the file), in SPEC §4 order: instant (ms),
 * validator id in byte order, seq. Columns as day-file-rows.ts reads them (binary COPY).
 */
export const DAY_QUERY = `
  select m.id, p.tc_enc, m.hes_enc, b.card_no, c.kind,
         (extract(epoch from b.tapped_at) * 1000)::bigint as tapped_ms,
         b.mode, b.line_code, b.vehicle_id, b.stop_code, b.validator_id, b.seq, b.result, b.reject_reason
  from boardings b
  join cards c on c.card_no = b.card_no
  join matches m on m.card_id = c.id and m.retracted_at is null
   and m.valid_from <= b.tapped_at and (m.valid_to is null or m.valid_to > b.tapped_at)
  join persons p on p.id = m.person_id
  where b.service_day = $1::date
  order by b.tapped_at, b.validator_id collate "C", b.seq`;

/**
 * The export session's settings: the day is joined with hash joins (in parallel where PostgreSQL
 * has workers: COPY, unlike a cursor, may use them) and sorted in memory (at 128 MB it spilled
 * 257 MB to disk before the first row); no JIT, whose compile time a one-off query never wins back.
 */
export const DAY_QUERY_SETTINGS = "set local work_mem = '256MB'; set local jit = off";

/** Bytes of COPY tuples per batch (~1,100 rows): small enough to keep memory flat, large enough that a worker message costs nothing. */
const BATCH_BYTES = 256 * 1024;
/** Jobs sent and not yet written: enough to keep every worker busy while the oldest is written. */
const IN_FLIGHT = 6;
/** Worker threads opening TC and HES: the costliest part of a row, beside this thread's parsing and CSV. */
const WORKERS = 2;

export type BuiltDayFile<T = undefined> = {
  path: string;
  rows: number;
  /** Size and sha256 of the file as written (the .gz when compressed): what the manifest names. */
  bytes: number;
  sha256: string;
  /** sha256 of the CSV bytes before compression: "has the content changed?" compares this. */
  contentSha256: string;
  /** What `inSnapshot` returned, read in the same snapshot as the rows. */
  extra: T;
};

/** What a batch whose every match is at hand waits for. */
const NOTHING_OPENED: OpenedCells = { cells: new Uint8Array(0), lengths: new Int32Array(0) };

/**
 * The buffers of the batches in flight, reused batch after batch (~1,000 of them on a 2 M-tap
 * day): the tuples and their field bounds, the clear cells gathered and where each row's are,
 * the CSV until it is written. A batch is rarely larger than a tuple slab (one tuple more than
 * BATCH_BYTES); one that is gets buffers of its own.
 */
function batchPools() {
  const tuples = new SlabPool(BATCH_BYTES + 64 * 1024);
  const bounds = DayRows.boundsFor(tuples.bytes);
  const rows = bounds / (2 * DAY_QUERY_COLUMNS);
  return {
    tuples,
    bounds: new SlabPool(bounds * 4),
    // A row's clear cells are shorter than its sealed values.
    cells: new SlabPool(tuples.bytes >> 1),
    at: new SlabPool(2 * rows * 4),
    csv: new SlabPool(csvBytesFor(tuples.bytes)),
  };
}

/** Counts the bytes flowing through and hashes them, passing them on unchanged. */
function digestTap(): {
  update: (chunk: Buffer) => void;
  tap: Transform;
  result: () => { bytes: number; sha256: string };
} {
  const hash = createHash('sha256');
  let bytes = 0;
  const update = (chunk: Buffer) => {
    hash.update(chunk);
    bytes += chunk.length;
  };
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      update(chunk);
      done(null, chunk);
    },
  });
  return { update, tap, result: () => ({ bytes, sha256: hash.digest('hex') }) };
}

/**
 * The day query with the day written in: COPY takes no parameters. Only a checked calendar day
 * (`YYYY-MM-DD`) ever reaches the SQL text.
 */
export function dayQueryFor(day: string): string {
  if (!isCalendarDay(day)) throw new Error('day must be a date as YYYY-MM-DD');
  return DAY_QUERY.replace('$1', `'${day}'`);
}

/** What `inSnapshot` reads beside the rows: its result, or its end whatever it was. */
type Beside<T> = { result: () => Promise<T>; settled: () => Promise<void> };

/**
 * Start `read` on a second connection of `pool` in the snapshot of `client`'s transaction (which
 * must be repeatable read, so that the rows it streams next are read in that same snapshot). With
 * a pool of one connection it would wait for `client` forever: it then runs after the rows on
 * `client` itself, as it always did.
 */
async function besideInSnapshot<T>(
  pool: Pool,
  client: PoolClient,
  read: ((client: PoolClient) => Promise<T>) | undefined,
): Promise<Beside<T>> {
  if (read === undefined) {
    return { result: async () => undefined as T, settled: async () => undefined };
  }
  if ((pool.options.max ?? 10) < 2) return { result: () => read(client), settled: async () => undefined };
  const { rows } = await client.query<{ id: string }>('select pg_export_snapshot() as id');
  const id = rows[0]?.id ?? '';
  if (!/^[0-9A-F-]+$/i.test(id)) throw new Error('PostgreSQL returned no snapshot id');
  const running = withTransaction(
    pool,
    async (other) => {
      await other.query(`set transaction snapshot '${id}'`);
      return read(other);
    },
    'begin isolation level repeatable read read only',
  );
  // Awaited by `result` or `settled`; a failure meanwhile is not unhandled.
  running.catch(() => undefined);
  return {
    result: () => running,
    settled: () =>
      running.then(
        () => undefined,
        () => undefined,
      ),
  };
}

/**
 * Stream day D from PostgreSQL (binary COPY of `DAY_QUERY`, read as fast as the file is written:
 * the day is never held in memory) to `path`: batches of whole tuples are formatted into CSV
 * bytes on this thread (day-file-rows.ts), their TC and HES opened on worker threads once per
 * match (here and nowhere else), written in order, hashed, optionally through gzip (zlib writes
 * no time stamp, so the same CSV always gives the same .gz bytes). `inSnapshot` reads in the same
 * read-only snapshot, beside the rows on a second connection (the manifest's stats).
 */
export async function buildDayFile<T = undefined>(options: {
  pool: Pool;
  keyring: Keyring;
  day: string;
  path: string;
  gzip?: boolean;
  /**
   * Reads more of the database in the rows' snapshot: on a second connection of the pool while
   * the rows stream (PostgreSQL's exported snapshot), so it costs no time of its own.
   */
  inSnapshot?: (client: PoolClient) => Promise<T>;
  /** Rows written so far, after each batch (a progress bar). */
  onRows?: (rows: number) => void;
}): Promise<BuiltDayFile<T>> {
  const query = dayQueryFor(options.day);
  // TC and HES are opened on worker threads (AES-GCM's per-value setup is most of a row's cost),
  // this thread parses the tuples, formats and writes; the workers' heaps are capped, since they
  // hold only the batches in flight.
  const workers = KeyringWorkerPool.start({
    keyring: options.keyring,
    workers: WORKERS,
    jobs: keyringJobs,
    jobsModule: DECRYPT_JOBS_MODULE,
    label: 'decryption',
    resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 32 },
  });
  const clear = new ClearCells();
  const pools = batchPools();
  const content = digestTap();
  // Without gzip the file is the CSV: hashed once.
  const written = options.gzip ? digestTap() : content;
  let rows = 0;
  // One snapshot for the whole file: rows and registry from the same instant.
  const inOneSnapshot = async (client: PoolClient): Promise<T> => {
    await client.query(DAY_QUERY_SETTINGS);
    // Awaited at once: a failure here is this build's, never a rejection nobody listens to. From
    // here on every way out waits for it to settle.
    const beside = await besideInSnapshot(options.pool, client, options.inSnapshot);
    const copy = client.query(copyTo(`copy (${query}) to stdout (format binary)`));
    const batcher = new CopyTupleBatcher(BATCH_BYTES, (n) => pools.tuples.buffer(n));
    type Pending = { batch: DayRows; cells: BatchCells; opened: Promise<OpenedCells> };
    /** A batch's rows whose TC and HES are not at hand are sent to a worker, once per match. */
    const open = (tuples: Buffer): Pending => {
      const batch = new DayRows(tuples, (n) => pools.bounds.int32s(n));
      const cells = new BatchCells(batch, clear, pools);
      const opened =
        cells.opening.length > 0
          ? workers.run('openBlobs', batch.sealed(cells.opening))
          : Promise.resolve(NOTHING_OPENED);
      // Awaited in order later; if an earlier one throws first, this failure is not unhandled.
      opened.catch(() => undefined);
      return { batch, cells, opened };
    };
    const ready = async ({ batch, cells, opened }: Pending): Promise<Buffer> => {
      cells.fill(await opened, clear);
      const formatted = formatDayRows(batch, cells, pools.csv);
      batch.giveBack(pools);
      cells.giveBack(pools);
      if ('unknownCode' in formatted) {
        const { what, value } = formatted.unknownCode;
        throw new Error(`no day-file code for ${what} ${JSON.stringify(value)}`);
      }
      rows += formatted.rows;
      options.onRows?.(rows);
      return formatted.csv;
    };
    async function* csvChunks() {
      yield Buffer.from(`${DAY_FILE_COLUMNS.join(',')}\r\n`, 'latin1');
      // Read in stream order, written in the same order: batch k+IN_FLIGHT is read from
      // PostgreSQL while the workers open the ones before and this thread writes k.
      const inFlight: Pending[] = [];
      // Not destroyed when this loop ends early: a COPY cut off mid-stream leaves its connection
      // waiting for the rest, so a failure drains it instead (below) and the rollback can run.
      const stream: AsyncIterable<Buffer> = {
        [Symbol.asyncIterator]: () => copy.iterator({ destroyOnReturn: false }),
      };
      for await (const chunk of stream) {
        for (const tuples of batcher.push(chunk)) inFlight.push(open(tuples));
        while (inFlight.length >= IN_FLIGHT) {
          const next = inFlight.shift();
          if (next) yield await ready(next);
        }
      }
      batcher.end();
      for (const pending of inFlight) yield await ready(pending);
    }
    // TC and HES in clear: readable by the owner only.
    const file = createWriteStream(options.path, { mode: 0o600 });
    const gzip = options.gzip ? createGzip() : undefined;
    // zlib writes its own buffers on to the file, hashed as they go.
    const compressed = gzip ? pipeline(gzip, written.tap, file) : undefined;
    compressed?.catch(() => undefined);
    const hashed = async function* () {
      for await (const csv of csvChunks()) {
        content.update(csv);
        yield csv;
      }
    };
    try {
      await writeInOrder(hashed(), gzip ?? file, (csv) => pools.csv.give(csv));
      await compressed;
    } catch (err) {
      file.destroy();
      gzip?.destroy();
      await compressed?.catch(() => undefined);
      // The rollback of withTransaction needs the connection idle: the rest of the COPY is read
      // and dropped (a COPY that failed in PostgreSQL has already ended).
      if (!copy.destroyed && !copy.readableEnded) {
        copy.resume();
        await finished(copy).catch(() => undefined);
      }
      // Nothing left running on the pool after a failure: the caller may end it.
      await beside.settled();
      throw err;
    }
    return beside.result();
  };
  let extra: T;
  try {
    extra = await withTransaction(
      options.pool,
      inOneSnapshot,
      'begin isolation level repeatable read read only',
    );
  } finally {
    await workers.close();
  }
  const csvDigest = content.result();
  const fileDigest = written === content ? csvDigest : written.result();
  return {
    path: options.path,
    rows,
    bytes: fileDigest.bytes,
    sha256: fileDigest.sha256,
    contentSha256: csvDigest.sha256,
    extra,
  };
}
