import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Rate } from './harness';
import { tapCopyLine } from './synthetic-taps';

type Cleanup = (label: string, undo: () => Promise<void>) => () => Promise<void>;

// ~100 KB per chunk: big enough that stream overhead vanishes, small enough to stay streaming.
const ROWS_PER_CHUNK = 1000;

function* copyChunks(rows: number): Generator<string> {
  for (let start = 0; start < rows; start += ROWS_PER_CHUNK) {
    const end = Math.min(start + ROWS_PER_CHUNK, rows);
    let chunk = '';
    for (let i = start; i < end; i++) chunk += tapCopyLine(i);
    yield chunk;
  }
}

/**
 * `COPY … FROM STDIN` (text format) of `rows` tap rows into a fresh unlogged table without
 * indexes: the fastest way PostgreSQL takes rows, so the ceiling for any bulk insert of taps.
 * The rows are generated while streaming (that cost is inside the figure, as it would be for a
 * real writer). The table is created inside the COPY's transaction and rolled back: nothing is
 * left behind, even when the process dies half-way.
 */
export async function measurePgCopy(options: {
  databaseUrl: string;
  rows: number;
  progress: (message: string) => void;
  cleanup: Cleanup;
}): Promise<Rate> {
  const client = new Client({ connectionString: options.databaseUrl, application_name: 'boarding-bench' });
  await client.connect();
  // Closing the connection rolls the transaction back, table included.
  const close = options.cleanup('close PostgreSQL connection', () => client.end());
  try {
    const table = `bench.copy_${randomUUID().replaceAll('-', '')}`;
    await client.query('CREATE SCHEMA IF NOT EXISTS bench');
    await client.query('BEGIN');
    await client.query(
      `CREATE UNLOGGED TABLE ${table} (
         validator_id text, seq bigint, card_no text, tapped_at timestamptz, mode text,
         line_code text, vehicle_id text, stop_code text, result text)`,
    );
    const copy = client.query(
      copyFrom(
        `COPY ${table} (validator_id, seq, card_no, tapped_at, mode, line_code, vehicle_id, stop_code, result) FROM STDIN`,
      ),
    );
    const started = performance.now();
    await pipeline(Readable.from(copyChunks(options.rows)), copy);
    const seconds = (performance.now() - started) / 1000;
    // A short count would make the rate a lie; the server's own row count is the check.
    if (copy.rowCount !== options.rows) {
      throw new Error(`pg-copy: the server took ${copy.rowCount} rows, ${options.rows} were sent`);
    }
    await client.query('ROLLBACK');
    options.progress(`pg-copy: ${options.rows.toLocaleString('en-US')} rows in ${seconds.toFixed(2)} s`);
    return { value: options.rows / seconds, unit: 'rows/s', amount: options.rows, seconds };
  } finally {
    await close();
  }
}
