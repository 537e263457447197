import { accountOffsets, dayOffsetRanges } from '@boarding/db/bulk/offset-records';
import type { PoolClient } from 'pg';
import { type Completeness, dayCompleteness } from './completeness';
import { type SilentValidators, silentValidators } from './silent-validators';

/**
 * SPEC §5: what the ingest group had not read, when the file was built, of the messages stamped
 * before the end of D plus the 10-minute drift allowance. `messages` > 0: D may lack taps the
 * ingest has not stored yet. The whole field is null when it was not checked (no Kafka given).
 */
export type IngestBehind = { messages: number; oldestUnreadAt: string | null };

export type DayStats = {
  tapsStored: number;
  accepted: number;
  rejected: number;
  matched: number;
  unmatched: number;
  duplicatesDropped: number;
  deadLettered: number;
} & Completeness & {
    /**
     * Offsets of the taps topic, between the first and the last that carried anything of D, with
     * no record of any kind (SPEC §2 accounting): 0 unless a message was lost on the way.
     */
    offsetsUnaccounted: number;
    ingestBehind: IngestBehind | null;
  } & SilentValidators;

/** SPEC §4 manifest, uploaded beside the file (and last). */
export type Manifest = {
  serviceDay: string;
  version: number;
  file: string;
  bytes: number;
  sha256: string;
  rows: number;
  generatedAt: string;
  supersedes: number | null;
  stats: DayStats;
};

/** The day's counts, in one pass over its stored taps. */
export type DayCounts = {
  tapsStored: number;
  accepted: number;
  rejected: number;
  /** Taps whose card had a match when they were ingested (the file joins as of build time). */
  matchedAtIngest: number;
  duplicatesDropped: number;
  deadLetteredByReason: Record<string, number>;
};

/** Stored taps by result and by match at ingest, duplicates, dead letters by reason. */
export async function dayCounts(client: PoolClient, day: string): Promise<DayCounts> {
  const taps = await client.query<{
    stored: number;
    accepted: number;
    rejected: number;
    matched: number;
    dups: number;
  }>(
    `select count(*)::int as stored,
            count(*) filter (where result = 'ACCEPTED')::int as accepted,
            count(*) filter (where result = 'REJECTED')::int as rejected,
            count(match_id)::int as matched,
            (select count(*) from duplicate_taps where service_day = $1::date)::int as dups
     from boardings where service_day = $1::date`,
    [day],
  );
  const letters = await client.query<{ reason: string; n: number }>(
    `select reason, count(*)::int as n from dead_letters where service_day = $1::date
     group by reason order by reason collate "C"`,
    [day],
  );
  const t = taps.rows[0] ?? { stored: 0, accepted: 0, rejected: 0, matched: 0, dups: 0 };
  return {
    tapsStored: t.stored,
    accepted: t.accepted,
    rejected: t.rejected,
    matchedAtIngest: t.matched,
    duplicatesDropped: t.dups,
    deadLetteredByReason: Object.fromEntries(letters.rows.map((r) => [r.reason, r.n])),
  };
}

/** The manifest's stats of day D but the two that depend on the file (`matched`, `unmatched`). */
export type DayStatsBeforeRows = Omit<DayStats, 'matched' | 'unmatched'>;

/**
 * Day D's counts, offsets and completeness: everything of the manifest's stats read from the
 * database. The export reads them in the snapshot of its rows, while the rows stream.
 */
export async function dayStatsBeforeRows(
  client: PoolClient,
  day: string,
  topic: string,
  ingestBehind: IngestBehind | null = null,
): Promise<DayStatsBeforeRows> {
  const counts = await dayCounts(client, day);
  const ranges = await dayOffsetRanges(client, topic, day);
  const accounts = await accountOffsets(client, topic, ranges, { countsOnly: true });
  return {
    tapsStored: counts.tapsStored,
    accepted: counts.accepted,
    rejected: counts.rejected,
    duplicatesDropped: counts.duplicatesDropped,
    deadLettered: Object.values(counts.deadLetteredByReason).reduce((a, n) => a + n, 0),
    ...(await dayCompleteness(client, day)),
    offsetsUnaccounted: accounts.reduce((n, a) => n + a.unaccountedCount, 0),
    ingestBehind,
    ...(await silentValidators(client, day)),
  };
}

/**
 * The manifest's stats of day D: `matched` = the rows of the file (matched by the registry at
 * build time), in the manifest's key order.
 */
export function withFileRows(stats: DayStatsBeforeRows, matched: number): DayStats {
  const { tapsStored, accepted, rejected, ...rest } = stats;
  return { tapsStored, accepted, rejected, matched, unmatched: tapsStored - matched, ...rest };
}
