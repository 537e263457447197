import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/**
 * The bulk path of `boarding registry import`: rows are COPYed into a temporary staging table,
 * checked against each other and the live matches with set-based SQL, then applied, all inside
 * the caller's transaction (one transaction or nothing, SPEC §3). Values arrive sealed: TC and
 * HES encrypted and blind-indexed by the caller; nothing here sees them in clear.
 */

export type StagedMatch = {
  line: number;
  cardNo: string;
  cardKind: 'PERSONAL' | 'ANONYMOUS';
  tcIndex: Buffer;
  tcEnc: Buffer;
  hesIndex: Buffer;
  hesEnc: Buffer;
  validFrom: Date;
  validTo: Date | null;
};

export type ImportConflict = {
  line: number;
  reason: 'OVERLAP_IN_FILE' | 'OVERLAP_EXISTING' | 'CARD_KIND_CONFLICT';
  /** Another line of the file it clashes with, when the clash is inside the file. */
  otherLine: number | null;
  /** The live match it clashes with, when the clash is with the database. */
  matchId: number | null;
  /** Which rule: the same card, or the same person. */
  scope: 'card' | 'person' | null;
};

export type ImportApplyResult = {
  inserted: number;
  closed: number;
  unchanged: number;
  persons: number;
  cards: number;
};

// Columns of the staging table and of the streaming path's chunk table: the COPY text of
// formatStagedMatch, in this order.
const STAGED_COLUMNS = `
      line integer not null,
      card_no text not null,
      card_kind text not null,
      tc_index bytea not null,
      tc_enc bytea not null,
      hes_index bytea not null,
      hes_enc bytea not null,
      valid_from timestamptz not null,
      valid_to timestamptz`;
const STAGED_COLUMN_LIST =
  'line, card_no, card_kind, tc_index, tc_enc, hes_index, hes_enc, valid_from, valid_to';

export async function createImportStaging(client: PoolClient): Promise<void> {
  // Temporary: private to this session, not WAL-logged, dropped at commit or rollback.
  await client.query(`create temp table import_staging (${STAGED_COLUMNS}) on commit drop`);
}

const hex = (b: Buffer) => `\\\\x${b.toString('hex')}`;

/** COPY text format line; every value is from a closed alphabet, so nothing needs escaping. */
export function formatStagedMatch(r: StagedMatch): string {
  const to = r.validTo ? r.validTo.toISOString() : '\\N';
  return `${r.line}\t${r.cardNo}\t${r.cardKind}\t${hex(r.tcIndex)}\t${hex(r.tcEnc)}\t${hex(r.hesIndex)}\t${hex(r.hesEnc)}\t${r.validFrom.toISOString()}\t${to}\n`;
}

/** Stream COPY text (lines from formatStagedMatch, in chunks) into the staging table. */
export async function copyIntoImportStaging(
  client: PoolClient,
  chunks: AsyncIterable<string>,
): Promise<void> {
  const sink = client.query(copyFrom(`copy import_staging (${STAGED_COLUMN_LIST}) from stdin`));
  await pipeline(Readable.from(chunks), sink);
  await client.query('analyze import_staging');
}

/**
 * Every staged row that cannot be applied, with the reason:
 *  - OVERLAP_IN_FILE: its range overlaps an earlier row of the same card (or the same person);
 *  - CARD_KIND_CONFLICT: the card's kind differs from another row or from the registered card;
 *  - OVERLAP_EXISTING: it overlaps a live match in the database that it neither repeats
 *    exactly (unchanged) nor closes (same match, open in the database, ended in the file).
 * Closures are taken into account: a file that ends an open match and starts the next one on
 * the same card is history, not an overlap.
 */
export async function findImportConflicts(client: PoolClient): Promise<ImportConflict[]> {
  // Run again after discarding lines (--skip-invalid), so the working tables are rebuilt.
  await client.query('drop table if exists import_known, import_person');
  await client.query(`
    create temp table import_person on commit drop as
      select distinct s.tc_index, p.id as person_id
      from import_staging s left join persons p on p.tc_index = s.tc_index`);
  await client.query('create index on import_person (tc_index)');
  // Database matches the file repeats exactly (unchanged) or ends (closes).
  await client.query(`
    create temp table import_known on commit drop as
      select s.line, m.id as match_id,
             case when m.valid_to is not distinct from s.valid_to then 'unchanged' else 'close' end as kind,
             s.valid_to as new_valid_to
      from import_staging s
      join import_person ip on ip.tc_index = s.tc_index
      join cards c on c.card_no = s.card_no
      join matches m on m.card_id = c.id and m.person_id = ip.person_id
                    and m.valid_from = s.valid_from and m.hes_index = s.hes_index
                    and m.retracted_at is null
      where m.valid_to is not distinct from s.valid_to or (m.valid_to is null and s.valid_to is not null)`);
  await client.query('create index on import_known (line)');
  await client.query('create index on import_known (match_id)');

  const inFile = async (key: 'card_no' | 'tc_index', scope: 'card' | 'person') => {
    const { rows } = await client.query<{ line: number; other: number }>(`
      with ordered as (
        select line, ${key} as k, valid_from,
               max(coalesce(valid_to, 'infinity')) over w as prev_end
        from import_staging
        window w as (partition by ${key} order by valid_from, line rows between unbounded preceding and 1 preceding)
      )
      select o.line,
             (select min(s.line) from import_staging s
               where s.${key} = o.k and s.line <> o.line
                 and (s.valid_from, s.line) < (o.valid_from, o.line)
                 and coalesce(s.valid_to, 'infinity') > o.valid_from) as other
      from ordered o
      where o.prev_end > o.valid_from`);
    return rows.map((r) => ({
      line: r.line,
      reason: 'OVERLAP_IN_FILE' as const,
      otherLine: r.other,
      matchId: null,
      scope,
    }));
  };

  const kinds = await client.query<{ line: number }>(`
    select s.line from import_staging s
    join (select card_no from import_staging group by card_no having count(distinct card_kind) > 1) d
      on d.card_no = s.card_no
    union
    select s.line from import_staging s join cards c on c.card_no = s.card_no and c.kind <> s.card_kind`);

  const existing = async (scope: 'card' | 'person') => {
    const join =
      scope === 'card'
        ? 'cards c on c.card_no = s.card_no join matches m on m.card_id = c.id'
        : 'import_person ip on ip.tc_index = s.tc_index join matches m on m.person_id = ip.person_id';
    const { rows } = await client.query<{ line: number; match_id: number }>(`
      select distinct on (s.line) s.line, m.id as match_id
      from import_staging s
      join ${join}
      left join import_known k on k.match_id = m.id and k.kind = 'close'
      where m.retracted_at is null
        and not exists (select 1 from import_known k2 where k2.line = s.line)
        and tstzrange(m.valid_from, case when k.match_id is null then m.valid_to else k.new_valid_to end, '[)')
            && tstzrange(s.valid_from, s.valid_to, '[)')
      order by s.line, m.id`);
    return rows.map((r) => ({
      line: r.line,
      reason: 'OVERLAP_EXISTING' as const,
      otherLine: null,
      matchId: Number(r.match_id),
      scope,
    }));
  };

  const all: ImportConflict[] = [
    ...(await inFile('card_no', 'card')),
    ...(await inFile('tc_index', 'person')),
    ...kinds.rows.map((r) => ({
      line: r.line,
      reason: 'CARD_KIND_CONFLICT' as const,
      otherLine: null,
      matchId: null,
      scope: 'card' as const,
    })),
    ...(await existing('card')),
    ...(await existing('person')),
  ];
  all.sort((a, b) => a.line - b.line);
  return all;
}

/** Drop staged rows by line (the rejects of `--skip-invalid`) before applying the rest. */
export async function discardStagedLines(client: PoolClient, lines: number[]): Promise<void> {
  if (lines.length === 0) return;
  await client.query('delete from import_staging where line = any($1::int[])', [lines]);
  await client.query('delete from import_known where line = any($1::int[])', [lines]);
}

/** Apply what is left in staging: new cards and persons, closures, new matches. */
export async function applyImportStaging(
  client: PoolClient,
  who: { actor: string; channel: string },
): Promise<ImportApplyResult> {
  const cardsRes = await client.query(`
    insert into cards (card_no, kind)
    select distinct on (card_no) card_no, card_kind from import_staging order by card_no, line
    on conflict (card_no) do nothing`);
  const personsRes = await client.query(`
    insert into persons (tc_index, tc_enc)
    select distinct on (tc_index) tc_index, tc_enc from import_staging order by tc_index, line
    on conflict (tc_index) do nothing`);
  const closed = await client.query(`
    update matches m set valid_to = k.new_valid_to
    from import_known k where k.kind = 'close' and m.id = k.match_id`);
  const unchanged = await client.query<{ n: number }>(
    `select count(*)::int as n from import_known where kind = 'unchanged'`,
  );
  const inserted = await client.query(
    `
    insert into matches (card_id, person_id, hes_enc, hes_index, valid_from, valid_to, channel, actor)
    select c.id, p.id, s.hes_enc, s.hes_index, s.valid_from, s.valid_to, $1, $2
    from import_staging s
    join cards c on c.card_no = s.card_no
    join persons p on p.tc_index = s.tc_index
    where not exists (select 1 from import_known k where k.line = s.line)
    order by p.id, s.valid_from`,
    [who.channel, who.actor],
  );
  return {
    inserted: inserted.rowCount ?? 0,
    closed: closed.rowCount ?? 0,
    unchanged: unchanged.rows[0]?.n ?? 0,
    persons: personsRes.rowCount ?? 0,
    cards: cardsRes.rowCount ?? 0,
  };
}

/**
 * The streaming path: rows are applied chunk by chunk while the file is still being read and
 * sealed, with no staging table and no set-based checks. It relies on the exclusion constraints
 * to refuse whatever the checks would have reported: any overlap with a live match (which also
 * covers a row repeating or closing one) or between two rows of the file raises 23P01. Card
 * kinds are checked after each chunk's cards are in (a card takes the kind of its first line,
 * so a later line with the other kind, or a registered card of the other kind, shows). The
 * caller runs it inside a savepoint and, on any refusal, rolls back to it and takes the staged
 * path, which names every rejected line.
 */
export async function createImportChunk(client: PoolClient): Promise<void> {
  await client.query(`create temp table import_chunk (${STAGED_COLUMNS}) on commit drop`);
}

/** What one chunk added; `kindConflict`: a line's card kind differs from its card's (nothing of the chunk's matches was inserted). */
export type ImportChunkResult = { inserted: number; persons: number; cards: number; kindConflict: boolean };

/** Replace the chunk table's rows by `copyText` (formatStagedMatch lines) and apply them. */
export async function applyImportChunk(
  client: PoolClient,
  copyText: string,
  who: { actor: string; channel: string },
): Promise<ImportChunkResult> {
  await client.query('truncate import_chunk');
  await pipeline(
    Readable.from([copyText]),
    client.query(copyFrom(`copy import_chunk (${STAGED_COLUMN_LIST}) from stdin`)),
  );
  // Without statistics the planner takes the chunk for a few rows or for many; either way it
  // may hash the whole of cards or persons for every chunk instead of probing their indexes.
  await client.query('analyze import_chunk');
  // File order, so a card and a person take their first line's kind and seal, as the staged path does.
  const cards = await client.query(`
    insert into cards (card_no, kind)
    select card_no, card_kind from (
      select distinct on (card_no) card_no, card_kind, line from import_chunk order by card_no, line
    ) f order by line
    on conflict (card_no) do nothing`);
  const kinds = await client.query(`
    select 1 from import_chunk s join cards c on c.card_no = s.card_no where c.kind <> s.card_kind limit 1`);
  if ((kinds.rowCount ?? 0) > 0) {
    return { inserted: 0, persons: 0, cards: cards.rowCount ?? 0, kindConflict: true };
  }
  const persons = await client.query(`
    insert into persons (tc_index, tc_enc)
    select tc_index, tc_enc from (
      select distinct on (tc_index) tc_index, tc_enc, line from import_chunk order by tc_index, line
    ) f order by line
    on conflict (tc_index) do nothing`);
  // Ids by index probes: a join would hash the whole of cards and persons for every chunk once
  // the registry is big (the planner's choice at 50 k cards already), a cost growing with it.
  const inserted = await client.query(
    `
    insert into matches (card_id, person_id, hes_enc, hes_index, valid_from, valid_to, channel, actor)
    select (select c.id from cards c where c.card_no = s.card_no),
           (select p.id from persons p where p.tc_index = s.tc_index),
           s.hes_enc, s.hes_index, s.valid_from, s.valid_to, $1, $2
    from import_chunk s
    order by s.line`,
    [who.channel, who.actor],
  );
  return {
    inserted: inserted.rowCount ?? 0,
    persons: persons.rowCount ?? 0,
    cards: cards.rowCount ?? 0,
    kindConflict: false,
  };
}
