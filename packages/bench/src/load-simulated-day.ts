import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseValidatorMessage, serviceDayOf, VALIDATOR_TAPS_TOPIC } from '@boarding/contracts/tap';
import { DEFAULT_MAX_TAP_AGE_DAYS } from '@boarding/contracts/time';
import {
  applyImportStaging,
  copyIntoImportStaging,
  createImportStaging,
  findImportConflicts,
} from '@boarding/db/bulk/match-import';
import type { HeartbeatRow, TapRow } from '@boarding/db/bulk/tap-store';
import { refreshValidatorDays } from '@boarding/db/bulk/validator-days';
import type { Db } from '@boarding/db/client';
import { withTransaction } from '@boarding/db/transaction';
import type { Keyring } from '@boarding/encryption/keyring';
import { judgeClock, tapRow } from '@boarding/ingest/classify';
import { classifyOptionsFor } from '@boarding/ingest/ingest-consumer';
import { type RawBatch, sealBatch } from '@boarding/registry/import/seal-batch';
import { getMatchHistory } from '@boarding/registry/verbs/get-match-history';
import type { DayPlan, SimMessage } from '@boarding/simulator/day';
import { registryRowLine } from '@boarding/simulator/registry-csv';
import type { Pool } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { lastJsonLine, numberField } from './ts-child';

/**
 * A simulated day (SPEC §8) written straight into a fresh database, in the state the ingest and
 * `boarding registry import` would leave it, in a fraction of their time: the export bench
 * needs a 2 M-tap day, and importing its registry (~9 k rows/s) then ingesting its taps
 * (~15 k taps/s) would take minutes before anything is measured.
 *
 * - Registry: each row of the simulator's registry is validated and sealed by the import's own
 *   `sealBatch`, COPYed into the import's staging table, checked and applied by the db package's
 *   import helpers (the same SQL as `boarding registry import`, exclusion constraints included).
 *   Only the CSV parsing, the import-run record and its audit row are skipped.
 * - Taps: each of the simulator's Kafka messages is judged by the contract's parser and the
 *   ingest's clock rules (`judgeClock`); the first arrival of each (validator, seq) is kept, as
 *   the ingest keeps it, and the stored taps are COPYed into `boardings`. `validator_days` is
 *   derived from them by the db package (`refreshValidatorDays`) and the newest heartbeat of each
 *   validator kept, so the manifest's completeness has real input. Not written: `tap_keys`,
 *   duplicates and dead letters (the export reads only their counts), and `boardings.match_id`
 *   (the export joins the registry again, SPEC §4).
 */

/** The simulator's registry rows, as `DayPlan.registryRows()` yields them. */
type RegistryRow = Parameters<typeof registryRowLine>[0];

const CHUNK_CHARS = 1 << 20;
/** Rows per `sealBatch` call: the import's own batch size (read-import-file.ts). */
const SEAL_BATCH_ROWS = 2000;

/**
 * COPY text for the import staging table: each row as it would be a line of an import file
 * (the header is line 1), validated and sealed by the import's `sealBatch` (inline: the load
 * runs in a child process of its own, beside the taps').
 */
export async function* sealedRegistryChunks(
  keyring: Keyring,
  rows: Iterable<RegistryRow>,
): AsyncGenerator<string> {
  const seal = (batch: RawBatch): string => {
    const sealed = sealBatch(keyring, batch);
    const [reject] = sealed.rejects;
    // The simulator writes valid rows only; one that is not is a simulator bug, not data to skip.
    if (reject) throw new Error(`simulated registry row ${reject.line} is invalid: ${reject.reason}`);
    return sealed.copy;
  };
  let line = 1;
  let batch: RawBatch = { records: [], lines: [] };
  for (const row of rows) {
    line++;
    batch.records.push(registryRowLine(row).split(','));
    batch.lines.push(line);
    if (batch.records.length >= SEAL_BATCH_ROWS) {
      yield seal(batch);
      batch = { records: [], lines: [] };
    }
  }
  yield seal(batch);
}

// The ingest's clock rules at their defaults (MAX_TAP_AGE_DAYS as the simulator's truth assumes).
const CLOCK_RULES = classifyOptionsFor(VALIDATOR_TAPS_TOPIC, DEFAULT_MAX_TAP_AGE_DAYS);

/** The newest heartbeat of a validator, as validator_heartbeats keeps it. */
type LatestHeartbeat = Pick<HeartbeatRow, 'validatorId' | 'lastSeq' | 'at'>;

export type IngestView = {
  /** The taps the ingest would store, in arrival order; the first arrival of each key wins. */
  taps: Generator<TapRow>;
  /** After `taps` is consumed: the newest heartbeat of each validator. */
  heartbeats(): LatestHeartbeat[];
};

/**
 * What the ingest would keep of a day's messages: each judged by the contract's parser
 * (`parseValidatorMessage`) and the ingest's clock rules with their defaults (SPEC §2); of the
 * taps left, the first arrival of each (validator, seq). Messages are taken in production order
 * as one partition: a validator's messages share a key, hence a partition, so their relative
 * order is the one the ingest sees. (Not the ingest's `classifyBatch` itself: its dead letters
 * and Kafka bookkeeping made it three times slower than the parsing, a minute at 2 M taps.)
 */
export function ingestView(messages: Iterable<SimMessage>): IngestView {
  const newest = new Map<string, LatestHeartbeat>();
  // Seqs by validator: numbers in a few thousand sets, not 2 M string keys for the collector.
  const stored = new Map<string, Set<number>>();

  function* taps(): Generator<TapRow> {
    let offset = -1;
    for (const m of messages) {
      offset++;
      const parsed = parseValidatorMessage(m.value);
      // Dead-lettered by the ingest: not valid, or not a message it knows.
      if (!parsed.ok) continue;
      const timestamp = Number(m.timestamp);
      if (parsed.kind === 'heartbeat') {
        const h = parsed.heartbeat;
        // Heartbeats follow the taps' clock rules in the ingest (classifyBatch) too.
        if (judgeClock('at', h.atMs, timestamp, CLOCK_RULES) !== null) continue;
        const before = newest.get(h.validatorId);
        newest.set(h.validatorId, {
          validatorId: h.validatorId,
          lastSeq: Math.max(before?.lastSeq ?? h.lastSeq, h.lastSeq),
          at: Math.max(before?.at ?? h.atMs, h.atMs),
        });
        continue;
      }
      const t = parsed.tap;
      // Dead-lettered by the clock rules (CLOCK_DRIFT_FUTURE, TAP_TOO_OLD).
      if (judgeClock('tappedAt', t.tappedAtMs, timestamp, CLOCK_RULES) !== null) continue;
      let seqs = stored.get(t.validatorId);
      if (seqs === undefined) {
        seqs = new Set();
        stored.set(t.validatorId, seqs);
      }
      // A duplicate, or a reset counter's conflict (SEQ_CONFLICT): the first arrival stays.
      if (seqs.has(t.seq)) continue;
      seqs.add(t.seq);
      yield tapRow(t, serviceDayOf(t.tappedAtMs), {
        partition: 0,
        offset,
        timestamp,
        key: null,
        value: null,
      });
    }
  }

  return { taps: taps(), heartbeats: () => [...newest.values()] };
}

const iso = (ms: number) => new Date(ms).toISOString();
const orNull = (v: string | null) => v ?? '\\N';

/** One `boardings` row in COPY text format; every field comes from a closed alphabet (SPEC §2). */
export function boardingCopyLine(t: TapRow): string {
  return `${t.serviceDay}\t${t.validatorId}\t${t.seq}\t${t.cardNo}\t${iso(t.tappedAt)}\t${t.mode}\t${t.lineCode}\t${orNull(t.vehicleId)}\t${orNull(t.stopCode)}\t${t.result}\t${orNull(t.rejectReason)}\t\\N\t${t.partition}\t${t.offset}\t${iso(t.timestamp)}\n`;
}

function* copyChunks(taps: Iterable<TapRow>, counter: { rows: number }): Generator<string> {
  let chunk = '';
  for (const t of taps) {
    chunk += boardingCopyLine(t);
    counter.rows++;
    if (chunk.length > CHUNK_CHARS) {
      yield chunk;
      chunk = '';
    }
  }
  yield chunk;
}

const since = (t0: number) => (performance.now() - t0) / 1000;

/** What load-day-child.ts prints: one half of the load. */
export type LoadChildResult = {
  part: 'registry' | 'taps';
  /** Registry rows applied, or taps stored. */
  rows: number;
  /** Taps of matched cards: the rows the day's file must have (the simulator's truth). */
  expectedFileRows: number;
  planSeconds: number;
  loadSeconds: number;
};

export function parseLoadChildResult(stdout: string): LoadChildResult {
  const who = 'load-day-child';
  const r = lastJsonLine(stdout, who);
  if (r.part !== 'registry' && r.part !== 'taps') throw new Error(`${who} result has no part`);
  const n = (key: string) => numberField(r, key, who);
  return {
    part: r.part,
    rows: n('rows'),
    expectedFileRows: n('expectedFileRows'),
    planSeconds: n('planSeconds'),
    loadSeconds: n('loadSeconds'),
  };
}

/** The registry, as `boarding registry import` applies it: one transaction, every check. */
export async function loadRegistry(pool: Pool, keyring: Keyring, plan: DayPlan): Promise<number> {
  const t0 = performance.now();
  await withTransaction(pool, async (client) => {
    await createImportStaging(client);
    await copyIntoImportStaging(client, sealedRegistryChunks(keyring, plan.registryRows()));
    const conflicts = await findImportConflicts(client);
    if (conflicts.length > 0) {
      throw new Error(
        `the simulated registry has ${conflicts.length} conflicting rows (first: line ${conflicts[0]?.line})`,
      );
    }
    const applied = await applyImportStaging(client, { actor: 'boarding-bench', channel: 'IMPORT' });
    if (applied.inserted !== plan.truth.registryRows) {
      throw new Error(`applied ${applied.inserted} matches, the simulator made ${plan.truth.registryRows}`);
    }
  });
  return since(t0);
}

/** The taps the ingest would store, COPYed into `boardings`; then the newest heartbeats. */
export async function loadTaps(pool: Pool, plan: DayPlan): Promise<{ rows: number; seconds: number }> {
  const t0 = performance.now();
  const client = await pool.connect();
  try {
    // The simulator's stored taps are all of day D; a tap of another day would find no partition
    // and fail the COPY, so it cannot go unnoticed.
    await client.query('select ensure_boardings_partition($1::date)', [plan.truth.day]);
    const view = ingestView(plan.messages());
    const counter = { rows: 0 };
    await pipeline(
      Readable.from(copyChunks(view.taps, counter)),
      client.query(
        copyFrom(
          'copy boardings (service_day, validator_id, seq, card_no, tapped_at, mode, line_code, vehicle_id, stop_code, result, reject_reason, match_id, kafka_partition, kafka_offset, kafka_timestamp) from stdin',
        ),
      ),
    );
    if (counter.rows !== plan.truth.expected.stored) {
      throw new Error(`stored ${counter.rows} taps, the simulator expects ${plan.truth.expected.stored}`);
    }
    const heartbeats = view.heartbeats();
    await client.query(
      `insert into validator_heartbeats (validator_id, last_seq, at)
       select * from unnest($1::text[], $2::int8[], $3::timestamptz[])`,
      [
        heartbeats.map((h) => h.validatorId),
        heartbeats.map((h) => h.lastSeq),
        heartbeats.map((h) => iso(h.at)),
      ],
    );
    return { rows: counter.rows, seconds: since(t0) };
  } finally {
    client.release();
  }
}

/**
 * The registry's own reader (blind index lookup by TC, decryption of TC and HES) finds the
 * first simulated person as the simulator made them: the rows were sealed as the import seals.
 */
export async function checkSealedAsTheRegistryReadsIt(
  db: Db,
  keyring: Keyring,
  plan: DayPlan,
): Promise<void> {
  const first = plan.registryRows().next();
  if (first.done) return;
  const history = await getMatchHistory({
    ctx: { db, keyring, actor: { id: 'boarding-bench', channel: 'IMPORT' } },
    input: { tcKimlikNo: first.value.tcKimlikNo, reveal: true },
  });
  const read = history[0];
  if (
    read?.tcKimlikNo !== first.value.tcKimlikNo ||
    read.hesCode.replaceAll('-', '') !== first.value.hesCode
  ) {
    throw new Error(
      'the registry does not read back the rows sealed by the bench as the simulator made them',
    );
  }
}

/**
 * After registry and taps: `validator_days` of `day` by the ingest's rule, then VACUUM ANALYZE.
 * A nightly export reads rows written hours before, long since vacuumed and analysed; rows read
 * for the first time right after a bulk load would also pay for setting their hint bits.
 */
export async function finishLoad(pool: Pool, day: string): Promise<{ derived: number; vacuum: number }> {
  let t0 = performance.now();
  await refreshValidatorDays(pool, day);
  const derived = since(t0);
  t0 = performance.now();
  await pool.query('vacuum analyze boardings, matches, cards, persons, validator_days, validator_heartbeats');
  return { derived, vacuum: since(t0) };
}
