import { basename } from 'node:path';
import { maskCardNo } from '@boarding/contracts/mask';
import {
  applyImportChunk,
  applyImportStaging,
  copyIntoImportStaging,
  createImportChunk,
  createImportStaging,
  discardStagedLines,
  findImportConflicts,
  type ImportApplyResult,
  type ImportConflict,
} from '@boarding/db/bulk/match-import';
import { withTransaction } from '@boarding/db/transaction';
import type { Pool, PoolClient } from 'pg';
import { z } from 'zod';
import type { RegistryContext } from '../context';
import { mapConstraintError } from '../errors';
import { parseInput } from '../input';
import { type ImportFileReader, type ReadProgress, readImportFile } from './read-import-file';
import { type Reject, RejectLog } from './reject-log';

export const ImportMatchesInput = z.object({
  path: z.string().min(1),
  /** Apply the valid rows and write the rejects to `rejectsPath`, instead of aborting. */
  skipInvalid: z.boolean().default(false),
  rejectsPath: z.string().min(1).optional(),
});
export type ImportMatchesInput = z.input<typeof ImportMatchesInput>;

export type ImportPhase = 'reading' | 'checking' | 'applying';
export type ImportProgress = ReadProgress & { phase: ImportPhase };

export type ImportReport = {
  file: string;
  sha256: string;
  rows: number;
  /** APPLIED: committed; UNCHANGED: every valid row was already there; REJECTED: nothing applied. */
  outcome: 'APPLIED' | 'UNCHANGED' | 'REJECTED';
  invalid: number;
  invalidByReason: Record<string, number>;
  /** Rejected lines in line order (the first 1000; all of them are in the rejects file). */
  rejects: Reject[];
  rejectsFile: string | null;
  applied: ImportApplyResult | null;
  importRunId: number;
  ms: number;
};

/** Thrown inside the import's transaction to roll it back: the file has rejects, nothing may be applied. */
class ImportRejected extends Error {
  constructor() {
    super('the import file has rejected lines; nothing applied');
    this.name = 'ImportRejected';
  }
}

/** Thrown inside the streaming apply: this file needs the staged path (see applyWhileReading). */
class StreamingRefused extends Error {
  constructor() {
    super('the file cannot be applied while reading');
    this.name = 'StreamingRefused';
  }
}

const PG_EXCLUSION_VIOLATION = '23P01';
// ~12,000 rows of COPY text a chunk: big enough that a chunk's fixed costs (COPY, ANALYZE, five
// statements) stay small beside its rows, small enough that the first refusal comes early.
const STREAM_CHUNK_CHARS = 4 << 20;
// Sealed batches (2,000 rows each) kept in flight while a chunk is applied: the workers seal
// the next two or three chunks meanwhile.
const STREAM_READ_AHEAD = 16;

type Streamed = { applied: ImportApplyResult; rejects: Reject[]; reader: ImportFileReader };

/**
 * The fast path for a file that only adds history (the common case, a first import above
 * all): apply chunk by chunk while the rest is still being read and sealed, so PostgreSQL's
 * work (above all the two GiST exclusion indexes, row by row) overlaps the sealing instead of
 * following it. Inside a savepoint; `null` after rolling back to it when the file needs the
 * staged path: an exclusion violation (an overlap in the file or with a live match, a repeated
 * or closed match), a card kind conflict, or, without skipInvalid, any invalid line. The
 * staged path then reads the file again and names every rejected line, so the rules and the
 * report are the staged path's whichever way the rows went in.
 */
async function applyWhileReading(
  client: PoolClient,
  ctx: RegistryContext,
  data: z.output<typeof ImportMatchesInput>,
  onProgress: (p: ImportProgress) => void,
): Promise<Streamed | null> {
  const held: Reject[] = [];
  let invalidLine = false;
  const reader = readImportFile(
    data.path,
    ctx.keyring,
    {
      add: (r) => {
        invalidLine = true;
        held.push(r);
      },
    },
    (p) => onProgress({ ...p, phase: 'reading' }),
    { readAhead: STREAM_READ_AHEAD },
  );
  const who = { actor: ctx.actor.id, channel: ctx.actor.channel };
  const applied: ImportApplyResult = { inserted: 0, closed: 0, unchanged: 0, persons: 0, cards: 0 };
  let text = '';
  const flush = async () => {
    if (text === '') return;
    const chunk = await applyImportChunk(client, text, who);
    text = '';
    if (chunk.kindConflict) throw new StreamingRefused();
    applied.inserted += chunk.inserted;
    applied.persons += chunk.persons;
    applied.cards += chunk.cards;
  };
  await client.query('savepoint import_streaming');
  try {
    await createImportChunk(client);
    for await (const copy of reader.chunks) {
      if (invalidLine && !data.skipInvalid) throw new StreamingRefused();
      text += copy;
      if (text.length >= STREAM_CHUNK_CHARS) await flush();
    }
    if (invalidLine && !data.skipInvalid) throw new StreamingRefused();
    await flush();
    await client.query('release savepoint import_streaming');
    return { applied, rejects: held, reader };
  } catch (err) {
    const refused =
      err instanceof StreamingRefused || (err as { code?: string }).code === PG_EXCLUSION_VIOLATION;
    if (!refused) throw err;
    await client.query('rollback to savepoint import_streaming');
    return null;
  }
}

function describeConflict(c: ImportConflict, cardOf: Map<number, string>): Reject {
  const who = c.scope === 'person' ? 'the same person' : 'the same card';
  const card = cardOf.get(c.line);
  const detail =
    c.reason === 'OVERLAP_IN_FILE'
      ? `overlaps line ${c.otherLine ?? '?'} for ${who}`
      : c.reason === 'OVERLAP_EXISTING'
        ? `overlaps live match ${c.matchId} of ${who} in the registry`
        : `card ${card ? maskCardNo(card) : ''} has another kind in the file or the registry`;
  return { line: c.line, reason: c.reason, detail };
}

/**
 * `boarding registry import FILE.csv` (SPEC §3): stream, validate, seal, stage with COPY, check
 * overlaps inside the file and against the registry, then apply the valid rows in ONE
 * transaction, or nothing. Re-importing the same file changes nothing and says so.
 */
export async function importMatches({
  ctx,
  pool,
  input,
  onProgress = () => undefined,
}: {
  ctx: RegistryContext;
  pool: Pool;
  input: ImportMatchesInput;
  onProgress?: (p: ImportProgress) => void;
}): Promise<ImportReport> {
  const data = parseInput(ImportMatchesInput, input);
  const started = Date.now();
  const rejects = new RejectLog(
    data.skipInvalid ? (data.rejectsPath ?? `${data.path}.rejects.csv`) : data.rejectsPath,
  );
  let reader: ImportFileReader | undefined;
  let applied: ImportApplyResult | null = null;
  let outcome: ImportReport['outcome'] = 'REJECTED';
  let runId = 0;
  const summary = () => reader?.summary() ?? { rows: 0, sha256: '', bytes: 0 };
  try {
    try {
      ({ applied, outcome, runId } = await withTransaction(pool, async (client) => {
        const streamed = await applyWhileReading(client, ctx, data, onProgress);
        let result: ImportApplyResult;
        if (streamed) {
          reader = streamed.reader;
          for (const r of streamed.rejects) rejects.add(r);
          const { rows } = summary();
          // Checked and applied chunk by chunk already; the phases are reported all the same.
          onProgress({ phase: 'checking', bytesRead: 1, totalBytes: 1, rows });
          onProgress({ phase: 'applying', bytesRead: 1, totalBytes: 1, rows });
          result = streamed.applied;
        } else {
          result = await applyStaged(client, ctx, data, rejects, onProgress, (r) => {
            reader = r;
          });
        }
        const done = result.inserted + result.closed === 0 ? 'UNCHANGED' : 'APPLIED';
        const id = await recordRun(client, ctx, data.path, summary(), rejects, done, result);
        return { applied: result, outcome: done, runId: id };
      }));
    } catch (err) {
      if (!(err instanceof ImportRejected)) throw mapConstraintError(err);
      // Rolled back: the run is recorded on its own, so a rejected file still leaves its trace.
      runId = await withTransaction(pool, (client) =>
        recordRun(client, ctx, data.path, summary(), rejects, 'REJECTED', null),
      );
    }
  } finally {
    await rejects.close();
  }
  const { sha256, rows } = summary();
  return {
    file: data.path,
    sha256,
    rows,
    outcome,
    invalid: rejects.total,
    invalidByReason: rejects.byReason,
    rejects: rejects.sorted(),
    rejectsFile: rejects.path ?? null,
    applied,
    importRunId: runId,
    ms: Date.now() - started,
  };
}

/**
 * The staged path: COPY every row into staging, check overlaps and kinds set-wise (naming every
 * rejected line and why), then apply what may be applied, or throw ImportRejected.
 */
async function applyStaged(
  client: PoolClient,
  ctx: RegistryContext,
  data: z.output<typeof ImportMatchesInput>,
  rejects: RejectLog,
  onProgress: (p: ImportProgress) => void,
  started: (reader: ImportFileReader) => void,
): Promise<ImportApplyResult> {
  const reader = readImportFile(data.path, ctx.keyring, rejects, (p) =>
    onProgress({ ...p, phase: 'reading' }),
  );
  started(reader);
  await createImportStaging(client);
  await copyIntoImportStaging(client, reader.chunks);
  const { rows } = reader.summary();
  if (rejects.total === 0 || data.skipInvalid) {
    onProgress({ phase: 'checking', bytesRead: 1, totalBytes: 1, rows });
    // With skipInvalid, check again after dropping lines until nothing conflicts: a dropped
    // line may be one another line relied on (it closed the registry match that the other
    // continues), and applying the other anyway would trip the exclusion constraint and
    // abort the whole run instead of rejecting that line too.
    for (;;) {
      const conflicts = await findImportConflicts(client);
      if (conflicts.length === 0) break;
      const cards = await client.query<{ line: number; card_no: string }>(
        'select line, card_no from import_staging where line = any($1::int[])',
        [conflicts.map((c) => c.line)],
      );
      const cardOf = new Map(cards.rows.map((r) => [r.line, r.card_no]));
      const seen = new Set<number>();
      for (const c of conflicts) {
        if (seen.has(c.line)) continue;
        seen.add(c.line);
        rejects.add(describeConflict(c, cardOf));
      }
      if (!data.skipInvalid) break;
      await discardStagedLines(client, [...seen]);
    }
  }
  if (rejects.total > 0 && !data.skipInvalid) throw new ImportRejected();
  onProgress({ phase: 'applying', bytesRead: 1, totalBytes: 1, rows });
  return applyImportStaging(client, { actor: ctx.actor.id, channel: ctx.actor.channel });
}

async function recordRun(
  client: PoolClient,
  ctx: RegistryContext,
  path: string,
  summary: { rows: number; sha256: string },
  rejects: RejectLog,
  outcome: ImportReport['outcome'],
  applied: ImportApplyResult | null,
): Promise<number> {
  const { rows } = await client.query<{ id: number }>(
    `insert into import_runs (finished_at, file_name, file_sha256, actor, outcome, rows_read, rows_invalid,
                              matches_inserted, matches_closed, matches_unchanged, summary)
     values (now(), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning id`,
    [
      basename(path),
      summary.sha256,
      ctx.actor.id,
      outcome,
      summary.rows,
      rejects.total,
      applied?.inserted ?? 0,
      applied?.closed ?? 0,
      applied?.unchanged ?? 0,
      JSON.stringify({
        invalidByReason: rejects.byReason,
        persons: applied?.persons ?? 0,
        cards: applied?.cards ?? 0,
      }),
    ],
  );
  const id = Number(rows[0]?.id);
  // One audit row per import run (the run row holds the counts; matches carry channel IMPORT).
  await client.query(
    `insert into registry_audit (actor, channel, action, detail) values ($1, $2, 'IMPORT', $3)`,
    [ctx.actor.id, ctx.actor.channel, JSON.stringify({ importRunId: id, outcome, file: basename(path) })],
  );
  return id;
}
